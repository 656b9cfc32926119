"""Snippets: the passage of an article where the query's words stand, with them marked.

Built from the stored text with the syllable pattern alone (no pyvi, no
re-analysis per hit). The output is HTML in which every piece of article text
is escaped and the only markup is our own `<mark>`.
"""

from bisect import bisect_left
from dataclasses import dataclass
from html import escape

from index import segmenter
from index.normalize import canonical, fold

WINDOW = 36  # syllables in a snippet
MAX_CHARS = 320


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

    def matches(self, text):
        """(start, end, term) of each syllable of `text` to mark."""
        found = []
        for start, end in segmenter.pieces(text):
            piece = text[start:end]
            if piece[-1] == ".":
                end -= 1
                piece = piece[:-1]
            form = canonical(piece)
            if form in self.exact or fold(form) in self.folded:
                found.append((start, end, fold(form)))
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
    """The character range of the window of WINDOW syllables with the most distinct matched terms."""
    pieces = segmenter.pieces(text)
    if not matches or not pieces:
        return 0, min(len(text), MAX_CHARS)
    starts = [p[0] for p in pieces]
    best, best_score = 0, -1
    j = 0
    for i, (start, _end, _term) in enumerate(matches):
        while j < len(matches) and matches[j][0] < _char_after(starts, start, WINDOW, len(text)):
            j += 1
        score = len({m[2] for m in matches[i:j]}) * 10 + (j - i)
        if score > best_score:
            best, best_score = i, score
    begin = matches[best][0]
    # open a few syllables before the first match, at a sentence start when one is near
    k = max(0, _index_of(starts, begin) - 6)
    begin = starts[k]
    sentence = max(text.rfind(". ", 0, matches[best][0]) + 2, text.rfind("\n", 0, matches[best][0]) + 1)
    if 0 < matches[best][0] - sentence < 80:
        begin = sentence
    end = _char_after(starts, begin, WINDOW, len(text))
    return begin, min(end, begin + MAX_CHARS)


def _index_of(starts, char):
    return bisect_left(starts, char)


def _char_after(starts, char, count, length):
    i = _index_of(starts, char) + count
    return starts[i] if i < len(starts) else length


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
