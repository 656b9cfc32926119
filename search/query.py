"""Query understanding: what a person typed, read as words, phrases and exclusions.

We do not use Whoosh's `QueryParser`: it splits on spaces before the analyzer
runs (so the compound "đảng viên" unquoted finds nothing) and reads "?" and
"*" as wildcards, while every Vietnamese question ends in "?". Here the
syntax is the one people know from web search: words, "quoted phrases",
-excluded words, and nothing else is an operator. No input raises.
"""

import re
from dataclasses import dataclass, field

from index.analysis.analyzers import SyllableAnalyzer, terms
from index.analysis.normalize import canonical, fold, has_diacritics, nfc

MAX_QUERY_CHARS = 256

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")
_PART = re.compile(r'(?P<neg>(?<!\w)-)?"(?P<phrase>[^"]*)"|(?P<negword>(?<![\w-])-(?=\w))|(?P<word>[^\s"]+)')
_SYLLABLES = SyllableAnalyzer()


@dataclass(frozen=True)
class Syllable:
    """One query syllable: its canonical form, folded form, and whether it was typed with marks."""

    text: str
    folded: str
    accented: bool

    @classmethod
    def of(cls, text):
        text = canonical(text)
        return cls(text, fold(text), has_diacritics(text))


@dataclass
class ParsedQuery:
    """A query as the searcher uses it. `text` is the cleaned query, shown back to the user."""

    text: str
    words: list = field(default_factory=list)  # free text, as syllables
    free_text: str = ""  # free text as written, for pyvi
    phrases: list = field(default_factory=list)  # required phrases, each a list of Syllable
    excluded: list = field(default_factory=list)  # excluded words or phrases, each a list of Syllable
    notices: list = field(default_factory=list)

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
    return [Syllable.of(t) for t in terms(_SYLLABLES, text)]


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
    free = []
    negate_next = False
    for m in _PART.finditer(text_for_parts):
        if m["negword"]:
            negate_next = True
            continue
        if m["phrase"] is not None:
            parts = syllables(m["phrase"])
            if parts:
                (query.excluded if m["neg"] else query.phrases).append(parts)
        else:
            parts = syllables(m["word"])
            if negate_next and parts:
                query.excluded.append(parts)
            elif parts:
                query.words.extend(parts)
                free.append(m["word"])
        negate_next = False
    query.free_text = " ".join(free)
    return query
