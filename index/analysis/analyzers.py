"""Vietnamese analysis for Whoosh: small tokenizers and filters composed with `|`.

Granularities of the same text, used identically at index and query time:

- words: pyvi's segmentation ("đảng_viên"), precise;
- syllables: pyvi's syllables ("đảng", "viên"), robust where pyvi segments a
  query differently from the article it should find;
- folded syllables ("dang", "vien"), for queries typed without diacritics;
- pairs of neighbouring syllables ("đảng viên", and folded "dang vien"), so
  proximity and phrases are term lookups rather than position checks.

Every token carries its position and its character offsets into the text it
came from. The classes live in an importable module because Whoosh pickles
the schema with its analyzers. For writing the index, `index_terms` gives the
same terms in one pass, without Token objects, and `index.analysis.term_numbers` as
numbered arrays.
"""

import re
from collections import OrderedDict
from functools import lru_cache

from whoosh.analysis import Filter, Token, Tokenizer

from index.analysis import segmenter
from index.analysis.normalize import canonical, fold, nfc

_CACHE_SIZE = 256
_segmentations = OrderedDict()


def segment(text):
    """pyvi's words of `text`, computed once per text even when several fields ask (a query's title and text)."""
    words = _segmentations.get(text)
    if words is None:
        words = _segmentations[text] = segmenter.words(text)
        while len(_segmentations) > _CACHE_SIZE:
            _segmentations.popitem(last=False)
    else:
        _segmentations.move_to_end(text)
    return words


_ALNUM = re.compile(r"[^\W_]")
# What may stand between two syllables of one compound: "GD-ĐT", "NN&PTNT", "2/9".
_JOINERS = frozenset("-&/")


def _is_term(piece):
    return _ALNUM.search(piece) is not None


def breaks_pairs(piece):
    """Whether a piece that is no term parts the syllables around it, so that no pair spans it: any
    punctuation but a joiner ("tỉnh, thành phố" holds no compound "tỉnh thành")."""
    return piece not in _JOINERS


# Articles repeat their words: normalizing each distinct token once makes analysis several times faster.
canonical_term = lru_cache(maxsize=200_000)(canonical)
folded_term = lru_cache(maxsize=200_000)(fold)


def _without_dot(piece):
    """Only pyvi's abbreviations ("TP.", "Tp.", "ThS.") end in a dot, which is not part of the word."""
    return piece[:-1] if piece[-1] == "." else piece


def _term_span(value, start, end):
    """`_without_dot` as a span of `value`."""
    return start, start + len(_without_dot(value[start:end]))


class _SpanTokenizer(Tokenizer):
    """Turns (text, start, end, joined) into Whoosh tokens with positions and offsets.

    `joined` says the token follows the previous one with no punctuation but a
    joiner between (`breaks_pairs`): the two can form a pair. "GD-ĐT" and
    "NN&PTNT" are pairs.
    """

    def spans(self, value):
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        value = nfc(value)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            t.pos = start_pos
            t.startchar, t.endchar = start_char, start_char + len(value)
            t.joined = False
            yield t
            return
        for pos, (text, start, end, joined) in enumerate(self.spans(value)):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            t.joined = joined
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


def _word_parts(pieces):
    """Which of a pyvi word's pieces are terms (their indexes), and whether they make one term joined
    by "_" (else each is a term of its own: pyvi glued punctuation or a symbol to the word)."""
    kept = [i for i, piece in enumerate(pieces) if _is_term(piece)]
    return kept, len(kept) == len(pieces)


def _word_spans(value, words):
    for word in words:
        kept, whole = _word_parts([value[s:e] for s, e in word])
        spans = [_term_span(value, *word[i]) for i in kept]
        if whole:
            yield "_".join(value[s:e] for s, e in spans), spans[0][0], spans[-1][1], False
        else:
            for s, e in spans:
                yield value[s:e], s, e, False


def _syllable_spans(value):
    joined = False
    for start, end in segmenter.pieces(value):
        if _is_term(value[start:end]):
            start, end = _term_span(value, start, end)
            yield value[start:end], start, end, joined
            joined = True
        elif breaks_pairs(value[start:end]):
            joined = False


class WordTokenizer(_SpanTokenizer):
    """pyvi words; a compound's syllables are joined by "_" as pyvi prints them."""

    def spans(self, value):
        return _word_spans(value, segment(value))


class SyllableTokenizer(_SpanTokenizer):
    """pyvi's syllables (and numbers, abbreviations), without punctuation; no model needed."""

    def spans(self, value):
        return _syllable_spans(value)


class CanonicalFilter(Filter):
    """Lower-case, with one tone-mark placement: "Hoà" and "hòa" index as "hòa"."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = canonical_term(t.text)
            yield t


class FoldFilter(Filter):
    """Strip every diacritic: "đảng" -> "dang"."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = folded_term(t.text)
            yield t


class PairFilter(Filter):
    """Each syllable with the one before it, no punctuation between ("đảng viên").

    A pair spans both syllables and takes the first one's position.
    """

    def __call__(self, tokens):
        previous = None
        for t in tokens:
            text, start = t.text, getattr(t, "startchar", None)
            if previous is not None and t.joined:
                t.text = f"{previous[0]} {text}"
                if previous[1] is not None:
                    t.startchar = previous[1]
                if hasattr(t, "pos"):
                    t.pos -= 1
                yield t
            previous = (text, start)


def WordAnalyzer():
    return WordTokenizer() | CanonicalFilter()


def SyllableAnalyzer():
    return SyllableTokenizer() | CanonicalFilter()


def FoldedAnalyzer():
    return SyllableTokenizer() | CanonicalFilter() | FoldFilter()


def PairAnalyzer():
    return SyllableTokenizer() | CanonicalFilter() | PairFilter()


def FoldedPairAnalyzer():
    return SyllableTokenizer() | CanonicalFilter() | FoldFilter() | PairFilter()


def terms(analyzer, text):
    """The indexed terms of `text` under `analyzer`, in order."""
    return [t.text for t in analyzer(text)]


_TERM_CACHE = 200_000
_syllable_terms = {}  # pyvi syllable -> its indexed term, or None (punctuation)
_word_terms = {}  # a word's syllables (a tuple; a string for one) -> its indexed terms


def syllable_term(piece):
    """The indexed term of one of pyvi's pieces, or None (punctuation, symbols)."""
    return canonical_term(_without_dot(piece)) if _is_term(piece) else None


def terms_of_word(pieces):
    """The indexed terms of a pyvi word (its pieces): one, or its real pieces' when pyvi glued punctuation."""
    kept, whole = _word_parts(pieces)
    terms = [_without_dot(pieces[i]) for i in kept]
    return [canonical_term("_".join(terms))] if whole else [canonical_term(term) for term in terms]


def index_terms(text, words):
    """The terms WordAnalyzer and SyllableAnalyzer give `text` (segmented into `words`), in order, and
    for each syllable whether it pairs with the one before (PairFilter's `joined`): one pass, no Token
    objects, each distinct word and syllable analysed once. The folded analyzers' terms are
    `folded_term` of these."""
    value = nfc(text)
    if value != text:
        words = segmenter.words(value)
    if len(_word_terms) > _TERM_CACHE or len(_syllable_terms) > _TERM_CACHE:
        _word_terms.clear()
        _syllable_terms.clear()
    word_terms = []
    for word in words:
        key = value[word[0][0]:word[0][1]] if len(word) == 1 else tuple(value[s:e] for s, e in word)
        found = _word_terms.get(key)
        if found is None:
            found = _word_terms[key] = terms_of_word((key,) if len(word) == 1 else key)
        word_terms += found
    syllables, joins = [], []
    joined = False
    for piece in segmenter.syllables(value):
        term = _syllable_terms.get(piece, False)
        if term is False:
            term = _syllable_terms[piece] = syllable_term(piece)
        if term is not None:
            syllables.append(term)
            joins.append(joined)
            joined = True
        elif breaks_pairs(piece):
            joined = False
    return word_terms, syllables, joins
