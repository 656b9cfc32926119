"""A text's index terms at every granularity, as numbered arrays, for writing segments fast.

Building every term as a string and counting strings per article was half of
indexing time once pyvi's CRF ran in numpy. Here each distinct piece of text
pyvi reads (a syllable as written, a number, a mark) is analysed once per
process, and its term, folded term and the facts pyvi's joining rule reads are
kept under the number the CRF model gives it. A text's terms are then array
operations on its pieces' numbers:
syllables, folded syllables, their pairs (two term numbers in one 64-bit key),
and pyvi words (a one-syllable word is its syllable's term; longer words are
looked up once per distinct word). The terms are exactly `analyzers.index_terms`
and the analyzers' (tests/test_term_numbers.py): texts with control characters,
where pyvi's pieces and the text's own differ, go through `index_terms`.
"""

from array import array

import numpy as np

from index.analysis import analyzers, crf, segmenter
from index.analysis.normalize import nfc
from index.store.schema import GRANULARITIES

PAIR_BITS = 32  # a pair's key: the first syllable's term number, then the second's
_TAG_SHIFT = 60  # counting, a key's granularity is in the bits above this: term numbers stay under 2 ** 28
_MAX_TERMS = 1 << 24  # distinct terms remembered before starting afresh (between segments)
_MAX_WORDS = 1 << 21  # distinct words of several pieces, likewise (each a tuple of strings: memory)


class TermNumbers:
    """Term numbers of one process: `terms(text)` gives a text's (keys, counts) per granularity
    (`index.schema.GRANULARITIES`); `names(granularity, keys)` gives the terms back."""

    def __init__(self):
        self._numbers = crf.Numbering(self._new_term)
        self._blob, self._ends = bytearray(b" "), array("q", [1])  # the terms' UTF-8, after a space for pairs
        self._words = {}  # a word of several pieces (a tuple) -> its term numbers
        self._forget_pieces(None)

    def __len__(self):
        return len(self._ends) - 1

    def _new_term(self, term):
        self._blob += term.encode("utf-8")
        self._ends.append(len(self._blob))
        return len(self._ends) - 2

    def _forget_pieces(self, generation):
        """Pieces are numbered by pyvi's CRF model (`segmenter.model().number`), which numbers them
        afresh now and then (a new `generation`): each number's facts are kept here, for that generation."""
        self._generation = generation
        # per piece number: its syllable term and folded term (-1: not a term), whether it parts the
        # syllables around it (punctuation, analyzers.breaks_pairs), and what pyvi's joining rule reads
        # (segmenter.piece_facts)
        self._syllable, self._folded = array("q"), array("q")
        self._end = array("b")
        self._facts = (array("b"), array("b"), array("b"))

    def _number(self, texts):
        """The numbers of each text's pieces, each number's facts known."""
        crf_model = segmenter.model()
        ids = crf_model.number(texts)
        if crf_model.generation != self._generation:
            self._forget_pieces(crf_model.generation)
        for piece in crf_model.syllables[len(self._syllable):]:
            self._new_piece(piece)
        return ids

    def _new_piece(self, piece):
        term = analyzers.syllable_term(piece)
        self._syllable.append(-1 if term is None else self._numbers[term])
        self._folded.append(-1 if term is None else self._numbers[analyzers.folded_term(term)])
        self._end.append(term is None and analyzers.breaks_pairs(piece))
        for facts, fact in zip(self._facts, segmenter.piece_facts(piece)):
            facts.append(fact)

    def names(self, granularity, keys):
        """Where the terms of `keys` (as `terms` gives them for `granularity`) are, as UTF-8, in the form
        `postingfile.FieldPostings` reads: (bytes, starts, lengths) of the pieces of each name."""
        blob = np.frombuffer(bytes(self._blob), dtype=np.uint8)
        ends = np.frombuffer(self._ends.tobytes(), dtype=np.int64)
        if granularity in ("pairs", "folded_pairs"):
            first, second = keys >> PAIR_BITS, keys & ((1 << PAIR_BITS) - 1)
            starts = np.stack([ends[first], np.zeros_like(keys), ends[second]], axis=1)
            stops = np.stack([ends[first + 1], np.ones_like(keys), ends[second + 1]], axis=1)
            return blob, starts, stops - starts
        starts = ends[keys][:, None]
        return blob, starts, ends[keys + 1][:, None] - starts

    def terms(self, text):
        """{granularity: (keys, counts)} of `text`."""
        return self.terms_many([text])[0]

    def terms_many(self, texts):
        """`terms` of each of `texts`, segmented together (`crf.Model.tag_many`).

        Pieces are read from each text as pyvi sees it (`segmenter.prepare`: tone marks in the
        old placement), where they stand exactly where the text's own do; the canonical form
        of a term does not depend on the placement. A text with control characters, which pyvi
        sees as spaces, goes through the strings.
        """
        values = [nfc(text) for text in texts]
        prepared = [segmenter.prepare(value) for value in values]
        arrays = [p.count(" ") == v.count(" ") for p, v in zip(prepared, values)]
        pieces = [segmenter.syllables(p) if a else None for p, a in zip(prepared, arrays)]
        ids = self._number([p for p in pieces if p is not None])
        inside = iter(segmenter.inside_many(ids))
        ids = iter(ids)
        return [self._terms(p, next(ids), next(inside)) if p is not None else self._from_strings(v)
                for p, v in zip(pieces, values)]

    def _terms(self, pieces, ids, inside):
        syllable = np.frombuffer(self._syllable, dtype=np.int64)[ids]
        is_term = syllable >= 0
        at = np.flatnonzero(is_term)
        syllables = syllable[at]
        stretch = np.cumsum(np.frombuffer(self._end, dtype=np.int8)[ids])[at]
        joined = stretch[1:] == stretch[:-1]  # between each term and the next: no punctuation but joiners
        folded = np.frombuffer(self._folded, dtype=np.int64)[ids][at]
        return _granularities(self._word_terms(pieces, ids, inside, syllable, is_term), syllables, folded,
                              (syllables[:-1] << PAIR_BITS | syllables[1:])[joined],
                              (folded[:-1] << PAIR_BITS | folded[1:])[joined])

    def _word_terms(self, pieces, ids, inside, syllable, is_term):
        """The term numbers of pyvi's words: where the CRF and pyvi's joining rule start a word."""
        if not len(ids):
            return syllable
        facts = [np.frombuffer(fact, dtype=bool)[ids] for fact in self._facts]
        joins = segmenter.joins([fact[:-1] for fact in facts], [fact[1:] for fact in facts])
        starts = np.ones(len(ids), dtype=bool)
        starts[1:] = ~(inside[1:] & joins)
        first = np.flatnonzero(starts)
        lengths = np.diff(first, append=len(ids))
        single = first[lengths == 1]
        longer = []
        words = self._words
        for start, length in zip(first[lengths > 1].tolist(), lengths[lengths > 1].tolist()):
            key = tuple(pieces[start:start + length])
            numbers = words.get(key)
            if numbers is None:
                numbers = words[key] = [self._numbers[t] for t in analyzers.terms_of_word(key)]
            longer += numbers
        return np.concatenate([syllable[single[is_term[single]]], np.array(longer, dtype=np.int64)])

    def _from_strings(self, value):
        """`terms` through `analyzers.index_terms`, for the texts the arrays cannot take."""
        word_terms, syllables, joins = analyzers.index_terms(value, segmenter.words(value))
        number = self._numbers.__getitem__
        s = [number(t) for t in syllables]
        f = [number(analyzers.folded_term(t)) for t in syllables]
        pairs = [i for i in range(1, len(s)) if joins[i]]
        return _granularities(*(np.array(keys, dtype=np.int64) for keys in (
            list(map(number, word_terms)), s, f, [s[i - 1] << PAIR_BITS | s[i] for i in pairs],
            [f[i - 1] << PAIR_BITS | f[i] for i in pairs])))

    def full(self):
        """Too many terms or words to keep: start afresh (only between segments, which hold numbers)."""
        return len(self) > _MAX_TERMS or len(self._words) > _MAX_WORDS


def _granularities(*keys):
    """{granularity: (distinct keys, how often each occurs)} of each granularity's keys, in order:
    counted in one sort, each granularity's keys tagged in their top bits."""
    tagged = np.concatenate([k | (g << _TAG_SHIFT) for g, k in enumerate(keys)])
    distinct, counts = np.unique(tagged, return_counts=True)
    bounds = np.searchsorted(distinct, np.arange(len(keys) + 1) << _TAG_SHIFT).tolist()
    untagged = distinct & ((1 << _TAG_SHIFT) - 1)
    return {g: (untagged[a:b], counts[a:b]) for g, a, b in zip(GRANULARITIES, bounds, bounds[1:])}


_term_numbers = TermNumbers()


def term_numbers():
    """This process's term numbers (forked workers start from their parent's)."""
    return _term_numbers


def forget():
    """Start the process's numbering afresh, when no segment under way holds its numbers."""
    global _term_numbers
    _term_numbers = TermNumbers()
