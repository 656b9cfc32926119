"""Posting lists as arrays: BM25 for every article of the index at once.

Whoosh scores one document at a time through a tree of Python matchers; on
35,000 articles a question (every syllable a clause, at several granularities)
took seconds. Here each term's postings are read once per commit into numpy
arrays (article numbers and BM25 scores) kept in a bounded cache shared by the
threads, and a query becomes sums and masks over arrays the size of the index.

Reading blocks goes below Whoosh's matcher API (the W3 codec's block data),
which is why `whoosh3` is pinned below 4; anything else is read through it.
"""

import math
import threading
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.util.numeric import byte_to_length

K1 = 1.2
B = 0.75
CACHE_BYTES = 96 * 2 ** 20  # common syllables are in every article: ~300 KB each on 35k articles

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)
_NOTHING = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def _leaf_postings(matcher):
    """(ids, frequencies) of one segment's posting list, a block at a time.

    Each block's ids are deltas from zero; rebased on the block before, the
    whole list is one cumulative sum.
    """
    if not isinstance(matcher, W3LeafMatcher):  # short lists are stored inline in the term info
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)
    deltas, weights = [], []
    last = 0
    while True:
        matcher._read_data()
        block_deltas, block_weights = matcher._data[0], matcher._data[1]
        first = len(deltas)
        deltas.extend(block_deltas)
        deltas[first] -= last
        last = matcher._maxid
        if block_weights is None:
            weights.extend([1.0] * len(block_deltas))
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * len(block_deltas))
        else:
            weights.extend(block_weights)
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return np.cumsum(np.array(deltas, dtype=np.int64)).astype(np.int32), np.array(weights, dtype=np.float32)


def inverse_frequency(count, df):
    """BM25's idf, as Lucene and bm25s have it (never negative)."""
    return math.log(1 + (count - df + 0.5) / (df + 0.5))


class Postings:
    """One commit's posting lists and field lengths, read on first use and shared by threads.

    Readers are not shared: each call takes the calling thread's reader of the
    same commit.
    """

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for segment, offset in reader.leaf_readers():
            if segment.has_deletions():
                self.live[[offset + n for n in segment._perdoc.deleted_docs()]] = False
        self.count = int(self.live.sum())
        self._lengths = {}
        self._cache = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def lengths(self, reader, field):
        """Every article's length in `field` (Whoosh's one-byte approximation), and their mean."""
        found = self._lengths.get(field)
        if found is None:
            lengths = np.zeros(self.size, dtype=np.float32)
            for segment, offset in reader.leaf_readers():
                column = segment._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
                if column is not None and column._count:
                    raw = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
                    lengths[offset:offset + len(raw)] = _LENGTH_OF_BYTE[raw]
            mean = float(lengths[self.live].mean()) if self.count else 1.0
            found = self._lengths[field] = (lengths, mean or 1.0)
        return found

    def _read(self, reader, field, text):
        ids, weights = [], []
        for segment, offset in reader.leaf_readers():
            if (field, text) in segment:
                seg_ids, seg_weights = _leaf_postings(segment.postings(field, text))
                ids.append(seg_ids + offset)
                weights.append(seg_weights)
        if not ids:
            return _NOTHING
        ids, tf = np.concatenate(ids), np.concatenate(weights)
        keep = self.live[ids]
        if not keep.all():
            ids, tf = ids[keep], tf[keep]
        if not len(ids):
            return _NOTHING
        lengths, mean = self.lengths(reader, field)
        idf = inverse_frequency(self.count, len(ids))
        scores = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[ids] / mean))
        return ids, scores.astype(np.float32)

    def term(self, reader, field, text):
        """(article numbers, BM25 score of `text` in `field` for each), ascending numbers."""
        key = (field, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = self._read(reader, field, text)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = found
                self._bytes += found[0].nbytes + found[1].nbytes
                while self._bytes > CACHE_BYTES and len(self._cache) > 1:
                    _, (ids, scores) = self._cache.popitem(last=False)
                    self._bytes -= ids.nbytes + scores.nbytes
        return found

    def mask(self, reader, terms):
        """The articles holding any of `terms` ((field, text) pairs), as a boolean array."""
        found = np.zeros(self.size, dtype=bool)
        for field, text in terms:
            found[self.term(reader, field, text)[0]] = True
        return found

    def add_scores(self, scores, reader, terms, weight):
        """Add `weight` x BM25 of each of `terms` to `scores` (an array over the articles)."""
        for field, text in terms:
            ids, term_scores = self.term(reader, field, text)
            if len(ids):
                scores[ids] += weight * term_scores
