"""Query understanding: what a person typed, read as words, phrases and exclusions.

We do not use Whoosh's `QueryParser`: it splits on spaces before the analyzer
runs (so the compound "đảng viên" unquoted finds nothing) and reads "?" and
"*" as wildcards, while every Vietnamese question ends in "?". Here the
syntax is the one people know from web search: words, "quoted phrases",
-excluded words, and nothing else is an operator. No input raises.
"""

import re
from dataclasses import dataclass, field, replace

from index.analysis.analyzers import SyllableAnalyzer
from index.analysis.normalize import canonical, fold, has_diacritics, nfc

MAX_QUERY_CHARS = 256

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")
_PART = re.compile(r'(?P<neg>(?<!\w)-)?"(?P<phrase>[^"]*)"|(?P<negword>(?<![\w-])-(?=\w))|(?P<word>[^\s"]+)')
_SYLLABLES = SyllableAnalyzer()


@dataclass(frozen=True)
class Syllable:
    """One query syllable: its canonical form, folded form, and whether it was typed with marks.

    `joined`: it pairs with the syllable before it (no punctuation between, as the index's pairs are
    made: `index.analysis.analyzers.breaks_pairs`); not part of what the syllable is.
    """

    text: str
    folded: str
    accented: bool
    joined: bool = field(default=True, compare=False)

    @classmethod
    def of(cls, text):
        text = canonical(text)
        return cls(text, fold(text), has_diacritics(text))


@dataclass
class ParsedQuery:
    """A query as the searcher uses it. `text` is the cleaned query, shown back to the user."""

    text: str
    pieces: list = field(default_factory=list)  # free text: (each space-separated piece as written, its syllables)
    phrases: list = field(default_factory=list)  # required phrases, each a list of Syllable
    excluded: list = field(default_factory=list)  # excluded words or phrases, each a list of Syllable
    # {excluded word: (it as written, the free piece typed right after it)}: `-Thủ Đức` may exclude the
    # compound (see `search.meaning`), which only pyvi or the archive's words tell from `-Thủ` and `Đức`.
    continued: dict = field(default_factory=dict)
    notices: list = field(default_factory=list)

    @property
    def words(self):
        """The free text as syllables."""
        return [s for _, parts in self.pieces for s in parts]

    @property
    def free_text(self):
        """The free text as written, for pyvi."""
        return " ".join(raw for raw, _ in self.pieces)

    @property
    def empty(self):
        return not (self.words or self.phrases)

    def all_syllables(self):
        """The syllables a result is looked for with: free words and phrases (for highlighting)."""
        return self.words + [s for p in self.phrases for s in p]

    @property
    def folded(self):
        """True when nothing in the query carries a diacritic: the user typed without them."""
        every = self.all_syllables()
        return bool(every) and not any(s.accented for s in every)


def syllables(text):
    """The query syllables of a piece of text, analysed as the index analyses articles."""
    return [replace(Syllable.of(t.text), joined=t.joined) for t in _SYLLABLES(text)]


def _continuing(previous, raw):
    """The syllables of the piece `raw` typed after the piece `previous`, the first paired with the last
    before it unless punctuation parts them ("tỉnh, thành")."""
    parts = syllables(raw)
    if parts:
        joined = syllables(f"{previous} {raw}")[len(syllables(previous))].joined if previous else False
        parts[0] = replace(parts[0], joined=joined)
    return parts


def clean(text):
    """NFC, no control characters or lone surrogates, at most MAX_QUERY_CHARS; returns (text, notices)."""
    notices = []
    text = _CONTROLS.sub(" ", nfc(text or ""))
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        text = cut[:cut.rfind(" ")] if " " in cut else cut
        notices.append(f"Truy vấn quá dài nên chỉ dùng {len(text)} ký tự đầu.")
    return text, notices


def parse(raw):
    """Read a raw query string; never raises, whatever it holds."""
    text, notices = clean(raw)
    if text.count('"') % 2:  # an unbalanced quote: read it as if it were not there
        text_for_parts = text.replace('"', " ")
    else:
        text_for_parts = text
    query = ParsedQuery(text=text, notices=notices)
    negate_next = False
    just_excluded = None  # (the excluded word just read, as written), which the next free piece may continue
    previous = None  # the piece just read (free or excluded), which the next one may pair with
    for m in _PART.finditer(text_for_parts):
        if m["negword"]:
            negate_next, just_excluded, previous = True, None, None
            continue
        if m["phrase"] is not None or negate_next:
            parts = syllables(m["phrase"] if m["phrase"] is not None else m["word"])
        else:
            parts = _continuing(previous, m["word"])
        if m["phrase"] is not None:
            if parts:
                (query.excluded if m["neg"] else query.phrases).append(parts)
            just_excluded = None
        elif negate_next and parts:
            query.excluded.append(parts)
            just_excluded = len(query.excluded) - 1, m["word"]
        elif parts:
            if just_excluded is not None:
                query.continued[just_excluded[0]] = just_excluded[1], len(query.pieces)
            query.pieces.append((m["word"], parts))
            just_excluded = None
        previous = m["word"]  # None after a phrase
        negate_next = False
    return query
