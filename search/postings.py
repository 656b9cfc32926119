"""Posting lists as arrays: BM25 for every article of the index at once.

Whoosh scores one document at a time through a tree of Python matchers; on
35,000 articles a question (every syllable a clause, at several granularities)
took seconds. Here each term's postings are read once per commit into numpy
arrays (article numbers and BM25 scores) kept in a bounded cache shared by the
threads, and a query becomes sums and masks over arrays the size of the index.

The store reads a term's postings for the whole index (`index.store.reading`);
here they become BM25F scores.
"""

import heapq
import math
import threading
from collections import OrderedDict
from functools import lru_cache, partial

import numpy as np

from index.store.reading import CommitPostings, deleted_articles, field_lengths
from index.store.schema import TEXT_FIELDS, TITLE_FIELDS

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.5  # a title occurrence counts as this many in the text
CACHE_BYTES = 32 * 2 ** 20  # memory, not quality (no test of it at 0); a common syllable ~280 KB on 35k articles

_NOTHING = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def document_frequencies(reader, field, files=None):
    """{term: how many articles hold it} for every term of `field`. `files`: `reader`'s
    `CommitPostings`, when already open."""
    return (files or CommitPostings(reader)).frequencies(field)


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
        self.live[deleted_articles(reader)] = False
        self.count = int(self.live.sum())
        self.files = CommitPostings(reader)
        self._lengths = {}
        self._cache = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def lengths(self, reader, granularity):
        """Every article's weighted length (text + TITLE_WEIGHT x title) at `granularity`, and their mean.

        Lengths are Whoosh's one-byte approximations.
        """
        found = self._lengths.get(granularity)
        if found is None:
            lengths = (field_lengths(reader, TEXT_FIELDS[granularity])
                       + TITLE_WEIGHT * field_lengths(reader, TITLE_FIELDS[granularity]))
            mean = float(lengths[self.live].mean()) if self.count else 1.0
            found = self._lengths[granularity] = (lengths, mean or 1.0)
        return found

    def _frequencies(self, field, text):
        """(live article numbers, frequencies) of `text` in `field`."""
        found = self.files.postings(field, text)
        if found is None:
            return _NOTHING
        ids, tf = found
        keep = self.live[ids]
        return (ids, tf) if keep.all() else (ids[keep], tf[keep])

    def _read(self, reader, granularity, text):
        """BM25F: title and text frequencies summed (the title's weighted) before saturation.

        Summed per field instead, a common word in a short title outscored a
        rare one in the text, and titled articles buried untitled ones.
        """
        title_ids, title_tf = self._frequencies(TITLE_FIELDS[granularity], text)
        text_ids, text_tf = self._frequencies(TEXT_FIELDS[granularity], text)
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
