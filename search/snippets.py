"""Snippets: the passage of an article where the query's words stand, with them marked.

Built from the stored text with one regular expression per query (no pyvi, no
re-analysis of the article per hit). The output is HTML in which every piece of article text
is escaped and the only markup is our own `<mark>`.
"""

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from html import escape

from index.analysis.analyzers import canonical_term, folded_term

WINDOW = 36  # syllables in a snippet
LEAD = 6  # syllables shown before the first match
MAX_CHARS = 320

# Every letter a folded letter may stand for, any mark and any case (with re.IGNORECASE).
_VARIANTS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ", "e": "eèéẻẽẹêềếểễệ", "i": "iìíỉĩị", "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự", "y": "yỳýỷỹỵ", "d": "dđ",
}


_SPACED = re.compile(r"\S+")


def _any_marks(folded):
    """A pattern for `folded` written with any marks: "dang" finds "đảng", "Đang", "dáng"."""
    return "".join(f"[{_VARIANTS[c]}]" if c in _VARIANTS else re.escape(c) for c in folded)


@lru_cache(maxsize=1024)
def _pattern(forms):
    """The pattern finding any of the folded `forms` (longest first), as whole words with any marks.

    Compiling one costs milliseconds; a query asked again (the next page, the API) reuses it.
    """
    return re.compile(r"(?<!\w)(?:" + "|".join(_any_marks(f) for f in forms) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Highlighter:
    """Which syllables of a text to mark: accented query syllables exactly, folded ones by fold."""

    exact: frozenset
    folded: frozenset

    @classmethod
    def for_syllables(cls, syllables):
        exact = frozenset(s.text for s in syllables if s.accented)
        folded = frozenset(s.folded for s in syllables if not s.accented)
        return cls(exact, folded)

    def __bool__(self):
        return bool(self.exact or self.folded)

    @cached_property
    def _candidates(self):
        """Where a match may stand: any of the syllables, with any marks, as a whole word.

        One regular expression over the text finds the few places worth a
        look, rather than normalizing each of an article's thousands of syllables.
        """
        forms = {folded_term(t) for t in self.exact} | self.folded
        return _pattern(tuple(sorted(forms, key=lambda f: (-len(f), f))))

    def matches(self, text):
        """(start, end, term) of each syllable of `text` to mark."""
        found = []
        if not self:
            return found
        for m in self._candidates.finditer(text):
            form = canonical_term(m.group())
            folded = folded_term(form)
            if form in self.exact or folded in self.folded:
                found.append((m.start(), m.end(), folded))
        return found


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
    for i, (start, _end, _term) in enumerate(matches):
        while j < len(matches) and matches[j][0] < start + 5 * WINDOW:
            j += 1
        score = len({m[2] for m in matches[i:j]}) * 10 + (j - i)
        if score > best_score:
            best, best_score = i, score
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
    """The best passage of `text` for the query, as safe HTML with matches in <mark>."""
    if not text:
        return ""
    matches = highlighter.matches(text) if highlighter else []
    begin, end = _best_window(text, matches)
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
