"""Snippets: the passage of an article where the query's words stand, with them marked.

Built from the stored text with one regular expression per query (no pyvi, no
re-analysis of the article per hit). What is marked follows what matched: a
compound or a phrase where its syllables stand together, a reading's spelling. The output is HTML in which every piece of article text
is escaped and the only markup is our own `<mark>`.
"""

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from html import escape

import numpy as np

from index.analysis.analyzers import canonical_term, folded_term

WINDOW = 36  # syllables in a snippet
LEAD = 6  # syllables shown before the first match
MAX_CHARS = 320
# A snippet is looked for in an article's first SCANNED characters (as Lucene's highlighters look in their first
# 10,000): finding the matches costs by the character, and the best articles of a large archive are often its
# longest (at 104,586 articles, 6 % of the slowest searches' hits were longer, against 2 % at 10,000).
SCANNED = 10_000

# Every letter a folded letter may stand for, any mark and any case (with re.IGNORECASE).
_VARIANTS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ", "e": "eèéẻẽẹêềếểễệ", "i": "iìíỉĩị", "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự", "y": "yỳýỷỹỵ", "d": "dđ",
}


_SPACED = re.compile(r"\S+")
_LETTER = re.compile(r"[^\W_]")


def _any_marks(folded):
    """A pattern for `folded` written with any marks: "dang" finds "đảng", "Đang", "dáng"."""
    return "".join(f"[{_VARIANTS[c]}]" if c in _VARIANTS else re.escape(c) for c in folded)


@lru_cache(maxsize=1024)
def _pattern(forms):
    """The pattern finding any of the folded `forms` (longest first), as whole words with any marks.

    Compiling one costs milliseconds; a query asked again (the next page, the API) reuses it.
    """
    return re.compile(r"(?<!\w)(?:" + "|".join(_any_marks(f) for f in forms) + r")(?!\w)", re.IGNORECASE)


_PLAIN = set("abcdefghijklmnopqrstuvwxyz0123456789")
# No character from here on stands for a plain letter or digit (the last is the Kelvin sign, U+212A, for
# "k"; tests/test_snippets.py checks every one): the table of the others is built in milliseconds.
_TABLE = 0x2200


@lru_cache(maxsize=1)
def _plain_letters():
    """Each character below `_TABLE` as the plain letter or digit whose `_any_marks` pattern it matches (any
    mark, any case), the others as themselves."""
    table = np.arange(_TABLE, dtype=np.uint32)
    every = "".join(map(chr, range(_TABLE)))
    for letter in sorted(_PLAIN):
        for m in re.finditer(_any_marks(letter), every, re.IGNORECASE):
            table[m.start()] = ord(letter)
    return table


def _plain(text):
    """`text` with every character that stands for a plain letter or digit written as it (the same length):
    where `_pattern` of plain `forms` matches `text`, `_plain_pattern` of them matches this."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = _plain_letters()
    plain = np.where(codes < _TABLE, table[np.minimum(codes, _TABLE - 1)], codes)
    return plain.tobytes().decode("utf-32-le", "surrogatepass")


@lru_cache(maxsize=1024)
def _plain_pattern(forms):
    """`_pattern` of `forms` made of plain letters and digits, for texts made `_plain`: compiled a hundred
    times faster (no class of every accented letter in either case to build) and found faster."""
    return re.compile(r"(?:" + "|".join(f[0] + r"(?<!\w.)" + f[1:] for f in forms) + r")(?!\w)")


@dataclass(frozen=True)
class Highlighter:
    """Which runs of a text's syllables to mark: each a sequence of query syllables standing side by side
    (a compound, a phrase) or a syllable alone. A syllable typed with marks (or read as a word with
    them) matches exactly; one typed without, by fold. `search.meaning` says which sequences a query's are.
    """

    sequences: frozenset  # tuples of search.query.Syllable

    @classmethod
    def of(cls, sequences):
        return cls(frozenset(tuple(s) for s in sequences if s))

    def __bool__(self):
        return bool(self.sequences)

    @cached_property
    def _candidates(self):
        """Where a match may stand: any of the syllables, with any marks, as a whole word.

        One regular expression over the text finds the few places worth a
        look, rather than normalizing each of an article's thousands of syllables:
        (the pattern, how the text is written for it first, or None).
        """
        forms = {s.folded for sequence in self.sequences for s in sequence}
        forms = tuple(sorted(forms, key=lambda f: (-len(f), f)))
        if all(_PLAIN.issuperset(f) for f in forms):
            return _plain_pattern(forms), _plain
        return _pattern(forms), None

    @cached_property
    def _starting(self):
        """{folded first syllable: (each sequence starting with it, longest first; its folded syllables)}."""
        found = {}
        for sequence in sorted(self.sequences, key=lambda q: (-len(q), [s.text for s in q])):
            found.setdefault(sequence[0].folded, []).append((sequence, " ".join(s.folded for s in sequence)))
        return found

    def matches(self, text):
        """(start, end, what was found) of each run of `text` to mark."""
        if not self:
            return []
        pattern, written = self._candidates
        hits = []
        for m in pattern.finditer(written(text) if written else text):
            start, end = m.span()
            form = canonical_term(text[start:end])
            hits.append((start, end, form, folded_term(form)))
        found = []
        i = 0
        starting = self._starting
        while i < len(hits):
            hit = hits[i]
            for sequence, folded in starting.get(hit[3], ()):
                end = i + len(sequence)
                if end == i + 1:  # a syllable alone (every one of a question's): no neighbour to check
                    if not _fits(sequence[0], hit):
                        continue
                elif end > len(hits) or not (
                        all(_fits(s, h) for s, h in zip(sequence, hits[i:end])) and all(
                        _beside(text, a[1], b[0], s.joined) for a, b, s in zip(hits[i:end], hits[i + 1:end],
                                                                             sequence[1:]))):
                    continue
                found.append((hit[0], hits[end - 1][1], folded))
                i = end
                break
            else:
                i += 1
        return found


def _fits(syllable, hit):
    return hit[2] == syllable.text if syllable.accented else hit[3] == syllable.folded


def _beside(text, end, start, joined):
    """Whether two syllables stand side by side: nothing but a space or a joiner between them, or where
    the query parts them (`joined` false: "Văn hóa, Thể thao"), nothing but spaces and punctuation."""
    between = text[end:start].strip()
    return between in ("", "-", "&", "/") or (not joined and len(between) <= 3 and not _LETTER.search(between))


def mark(text, spans):
    """`text` as escaped HTML with `spans` in <mark>; neighbouring spans share one mark."""
    out = []
    last = 0
    merged = []
    for start, end in spans:
        if merged and text[merged[-1][1]:start].strip() == "":
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    for start, end in merged:
        out.append(escape(text[last:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _best_window(text, matches):
    """The character range of the window of WINDOW syllables with the most distinct matched terms.

    Windows are compared by characters (a syllable and its space: about five),
    and syllables counted as space-separated pieces only around the chosen
    one: a long article costs no more than a short one.
    """
    if not matches:
        return 0, min(len(text), MAX_CHARS)
    best, best_score = 0, -1
    j = 0
    held = {}  # {term: how many matches of the window hold it}, kept as the window slides
    for i, (start, _end, term) in enumerate(matches):
        while j < len(matches) and matches[j][0] < start + 5 * WINDOW:
            held[matches[j][2]] = held.get(matches[j][2], 0) + 1
            j += 1
        score = len(held) * 10 + (j - i)
        if score > best_score:
            best, best_score = i, score
        if held[term] == 1:  # the window moves past this match
            del held[term]
        else:
            held[term] -= 1
    first = matches[best][0]
    # open a few syllables before the first match, at a sentence start when one is near
    before = [m.start() for m in _SPACED.finditer(text, max(0, first - 12 * LEAD), first)]
    begin = before[-LEAD] if len(before) >= LEAD else (before[0] if before and first > 12 * LEAD else 0)
    full_stop = text.rfind(". ", 0, first)
    sentence = max(full_stop + 2 if full_stop >= 0 else 0, text.rfind("\n", 0, first) + 1)
    if 0 <= first - sentence < 80:
        begin = sentence
    return begin, min(_after(text, begin, WINDOW), begin + MAX_CHARS)


def _after(text, char, count):
    """Where the `count`-th space-separated piece after `char` starts (or the end of the text)."""
    for n, m in enumerate(_SPACED.finditer(text, char, char + 16 * count)):
        if n == count:
            return m.start()
    return min(len(text), char + 16 * count)


def snippet(text, highlighter):
    """The best passage of `text` for the query (in its first SCANNED characters, cut at a space), as safe HTML
    with matches in <mark>."""
    if not text:
        return ""
    cut = text.rfind(" ", 0, SCANNED) if len(text) > SCANNED else len(text)
    scanned = text[:cut if cut > 0 else SCANNED]  # (no space to cut at: at SCANNED)
    matches = highlighter.matches(scanned) if highlighter else []
    begin, end = _best_window(scanned, matches)
    # do not cut a word in two at the end
    while end < len(text) and not text[end].isspace():
        end += 1
    inside = [(s - begin, e - begin) for s, e, _ in matches if s >= begin and e <= end]
    html = mark(text[begin:end], inside).replace("\n", " ")
    return ("… " if begin > 0 else "") + html + (" …" if end < len(text) else "")


def highlight(text, highlighter):
    """All of `text` with every match marked (titles, the article page)."""
    if not highlighter:
        return escape(text)
    return mark(text, [(s, e) for s, e, _ in highlighter.matches(text)])
