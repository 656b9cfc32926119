"""Posting lists as arrays: BM25 for every article of the index at once.

Whoosh scores one document at a time through a tree of Python matchers; on
35,000 articles a question (every syllable a clause, at several granularities)
took seconds. Here each term's postings are read once per commit into numpy
arrays (article numbers and BM25 scores) kept in a bounded cache shared by the
threads, and a query becomes sums and masks over arrays the size of the index.

Segments written by our indexer are read from their posting files
(`index.store.postingfile`), two array slices per term. Others are read through
Whoosh, a block at a time below its matcher API (the W3 codec's block data),
which is why `whoosh3` is pinned below 4.
"""

import heapq
import math
import threading
from collections import OrderedDict
from functools import lru_cache, partial

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.util.numeric import byte_to_length

from index.store.postingfile import PostingFile, term_hash
from index.store.schema import TEXT_FIELDS, TITLE_FIELDS

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.5  # a title occurrence counts as this many in the text
CACHE_BYTES = 32 * 2 ** 20  # memory, not quality (no test of it at 0); a common syllable ~280 KB on 35k articles

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


def posting_files(reader):
    """(the posting file merged over every segment of `reader`, or None; else each segment's own, or
    None for a segment Whoosh wrote): opened once per commit, each open reads the files' fences."""
    merged = PostingFile.merged(reader)
    return merged, [] if merged else [PostingFile.of(segment) for segment, _ in reader.leaf_readers()]


def document_frequencies(reader, field, files=None):
    """{term: how many articles hold it} for every term of `field`, read segment by segment.

    Whoosh's own multi-segment term iteration merges the segments' term lists
    in Python: on an index of 16 segments it took minutes where this takes
    seconds, and a segment's posting file gives them faster still. `files`:
    `reader`'s `posting_files`, when already open.
    """
    merged, own = files or posting_files(reader)
    if merged is not None:
        return merged.frequencies(field) if merged.has_field(field) else {}
    found = {}
    for (segment, _), stored in zip(reader.leaf_readers(), own):
        if stored is not None:
            for term, n in (stored.frequencies(field).items() if stored.has_field(field) else ()):
                found[term] = found.get(term, 0) + n
            continue
        if field not in segment.indexed_field_names():
            continue
        for term, info in segment.iter_field(field):
            term = term.decode("utf-8") if isinstance(term, bytes) else term
            found[term] = found.get(term, 0) + info.doc_frequency()
    return found


def frequencies_by_field(reader, files=None):
    """`document_frequencies` of `reader` by field, each field read once for as long as this lives."""
    return lru_cache(maxsize=None)(partial(document_frequencies, reader, files=files))


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
        self.files = posting_files(reader)
        self._lengths = {}
        self._cache = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def _field_lengths(self, reader, field):
        lengths = np.zeros(self.size, dtype=np.float32)
        for segment, offset in reader.leaf_readers():
            column = segment._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
            if column is not None and column._count:
                raw = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
                lengths[offset:offset + len(raw)] = _LENGTH_OF_BYTE[raw]
        return lengths

    def lengths(self, reader, granularity):
        """Every article's weighted length (text + TITLE_WEIGHT x title) at `granularity`, and their mean.

        Lengths are Whoosh's one-byte approximations.
        """
        found = self._lengths.get(granularity)
        if found is None:
            lengths = (self._field_lengths(reader, TEXT_FIELDS[granularity])
                       + TITLE_WEIGHT * self._field_lengths(reader, TITLE_FIELDS[granularity]))
            mean = float(lengths[self.live].mean()) if self.count else 1.0
            found = self._lengths[granularity] = (lengths, mean or 1.0)
        return found

    def _frequencies(self, reader, field, text):
        ids, weights = [], []
        name = text.encode("utf-8")
        key = np.uint64(term_hash(name))
        merged, own = self.files
        if merged is not None:
            found = merged.postings(field, name, key)
            ids, weights = ([found[0]], [found[1]]) if found is not None else ([], [])
        for (segment, offset), stored in zip(reader.leaf_readers(), own):
            if stored is not None:
                found = stored.postings(field, name, key)
            else:
                found = _leaf_postings(segment.postings(field, text)) if (field, text) in segment else None
            if found is not None:
                ids.append(found[0] + offset)
                weights.append(found[1])
        if not ids:
            return _NOTHING
        ids, tf = np.concatenate(ids), np.concatenate(weights)
        keep = self.live[ids]
        return (ids, tf) if keep.all() else (ids[keep], tf[keep])

    def _read(self, reader, granularity, text):
        """BM25F: title and text frequencies summed (the title's weighted) before saturation.

        Summed per field instead, a common word in a short title outscored a
        rare one in the text, and titled articles buried untitled ones.
        """
        title_ids, title_tf = self._frequencies(reader, TITLE_FIELDS[granularity], text)
        text_ids, text_tf = self._frequencies(reader, TEXT_FIELDS[granularity], text)
        at = np.searchsorted(text_ids, title_ids)  # merged in one pass: the title's postings are few
        found = at < len(text_ids)
        found[found] = text_ids[at[found]] == title_ids[found]
        tf = text_tf.copy()
        tf[at[found]] += TITLE_WEIGHT * title_tf[found]
        ids = text_ids
        if not found.all():  # articles with the term in their title only
            ids = np.insert(text_ids, at[~found], title_ids[~found])
            tf = np.insert(tf, at[~found], TITLE_WEIGHT * title_tf[~found])
        if not len(ids):
            return _NOTHING
        lengths, mean = self.lengths(reader, granularity)
        idf = inverse_frequency(self.count, len(ids))
        scores = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[ids] / mean))
        return ids, scores.astype(np.float32)

    def _scores(self, reader, granularity, text):
        """The cached BM25F scores of `text`: (article numbers, scores), or for a term in more than half
        the articles, one score per article (0 where absent), smaller and added without indexing."""
        key = (granularity, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        ids, scores = self._read(reader, granularity, text)
        if 2 * len(ids) > self.size:
            found = np.zeros(self.size, dtype=np.float32)
            found[ids] = scores
        else:
            found = ids, scores
        with self._lock:
            if key not in self._cache:
                self._cache[key] = found
                self._bytes += _nbytes(found)
                while self._bytes > CACHE_BYTES and len(self._cache) > 1:
                    self._bytes -= _nbytes(self._cache.popitem(last=False)[1])
        return found

    def warm(self, reader, counts, frequencies, stop):
        """Read ahead the longest posting lists ({granularity: how many terms}), the ones that cost a
        first query most; within the cache's budget, until the event `stop` is set. `frequencies` is
        the reader's `frequencies_by_field`."""
        for granularity, count in counts.items():
            found = frequencies(TEXT_FIELDS[granularity])
            for term in heapq.nlargest(count, found, key=found.get):
                if self._bytes > CACHE_BYTES * 0.8 or stop.is_set():
                    return
                self._scores(reader, granularity, term)

    def mask(self, reader, granularity, text):
        """The articles holding `text` at `granularity`, in title or text, as a boolean array."""
        found = self._scores(reader, granularity, text)
        if not isinstance(found, tuple):
            return found > 0
        mask = np.zeros(self.size, dtype=bool)
        mask[found[0]] = True
        return mask

    def add_scores(self, scores, reader, granularity, text, weight):
        """Add `weight` x the BM25F score of `text` to `scores` (an array over the articles)."""
        found = self._scores(reader, granularity, text)
        if not isinstance(found, tuple):
            scores += weight * found
        elif len(found[0]):
            scores[found[0]] += weight * found[1]


def _nbytes(scores):
    return scores[0].nbytes + scores[1].nbytes if isinstance(scores, tuple) else scores.nbytes
