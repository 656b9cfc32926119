"""Posting lists as arrays: masks of the articles holding a term, unscored; BM25F for those ranked.

Whoosh scores one document at a time through a tree of Python matchers; on
35,000 articles a question (every syllable a clause, at several granularities)
took seconds. Here each term's postings are read once per commit into numpy
arrays (article numbers and BM25F frequencies, title and text merged) kept in a
bounded cache shared by the threads. Matching, totals and facets are masks
made from the article numbers alone; BM25F scores are computed from the
frequencies when a query ranks by them, for the articles ranked
(`search.ranking`).

The store reads a term's postings for the whole index (`index.store.reading`).
"""

import heapq
import math
import threading
from collections import OrderedDict
from functools import lru_cache, partial

import numpy as np

from index.analysis.normalize import fold
from index.store.reading import CommitPostings, deleted_articles, field_lengths
from index.store.schema import FOLDED, GRANULARITIES, TEXT_FIELDS, TITLE_FIELDS

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.5  # a title occurrence counts as this many in the text (in halves: see `Term`)
# Memory, not quality (no test sets them to 0): the posting lists a process keeps decoded. A common syllable
# is a byte per article, so the budget grows with the archive to keep as many: 1,500 bytes an article, room
# for what the read-ahead takes (`engine.WARM`: 95 MB at 104,586 articles; it stops at 0.8 x PROTECTED of the
# budget) and for the lists of bench_scale's 400 queries beside it (900 bytes: CPU p95 22.8 ms against
# 20.2 at 1,250; more room with the same read-ahead gained nothing), at least 32 MB (what 10,000 get; 35,432
# get 53 MB).
CACHE_PER_ARTICLE = 1_500
MIN_CACHE_BYTES = 32 * 2 ** 20


def cache_budget(articles):
    """The bytes of posting lists kept decoded for an archive of `articles`, unless told otherwise."""
    return max(MIN_CACHE_BYTES, CACHE_PER_ARTICLE * articles)


_NOTHING = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
# A folded granularity: the granularity its terms' readings are (their postings lie side by side), and back.
_READ_IN = {folded: exact for folded in GRANULARITIES for exact in GRANULARITIES
            if FOLDED.get(TEXT_FIELDS[folded]) == TEXT_FIELDS[exact]}
_FOLDED_AS = {exact: folded for folded, exact in _READ_IN.items()}
# The share of the cache kept for terms used more than once (`TermCache`): speed only, the hits are the same.
PROTECTED = 0.8
# A term is kept as a byte per article, rather than its postings, once this share of the articles holds it:
# its postings would take five bytes each (a number and a frequency). Memory and speed: the hits are the
# same either way (tests/test_ranking.py).
DENSE_SHARE = 1 / 5
# Scoring a few articles (`Ranking.scores_of`) looks each term's postings up among them: in a map of where
# every article of the index stands among them, made once when they are at least 1/POSITIONS_SHARE of the
# index (its cost, an array over the index, is then paid back), for a term of fewer than LOOKUP_SPAN times
# as many postings (from there a binary search of them for each article scored is quicker). Speed only:
# the same postings are found either way (tests/test_ranking.py). Measured on 104,586 articles, 13,000 of
# them scored: 345 -> 68 µs a term of 13,000 postings.
POSITIONS_SHARE = 1024
LOOKUP_SPAN = 16
# A folded term's lists (title and text, each reading's) are summed in an array over the articles once they
# hold 1/SCATTER of them, else sorted together (measured on 104,586 articles: the same time at about 1/8):
# speed only, the sums are the same (tests/test_postings.py).
SCATTER = 8


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
    """One commit's posting lists and field lengths, read on first use and shared by threads; at most
    `cache_bytes` of lists kept (default: `cache_budget`).

    Readers are not shared: each call takes the calling thread's reader of the
    same commit.
    """

    def __init__(self, reader, cache_bytes=None):
        self.size = reader.doc_count_all()
        self.cache_bytes = cache_budget(self.size) if cache_bytes is None else cache_bytes
        self.live = np.ones(self.size, dtype=bool)
        self.live[deleted_articles(reader)] = False
        self.count = int(self.live.sum())
        self.files = CommitPostings(reader)
        self._lengths = {}
        self._norms = {}
        self._cache = TermCache(self.cache_bytes)

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

    def norms(self, reader, granularity):
        """Every article's BM25 length norm at `granularity`, in halves of an occurrence as frequencies are
        kept (`Term`): 2 x K1 x (1 - B + B x length / mean length)."""
        found = self._norms.get(granularity)
        if found is None:
            lengths, mean = self.lengths(reader, granularity)
            found = self._norms[granularity] = (2 * K1 * (1 - B + B * lengths / mean)).astype(np.float32)
        return found

    def _readings(self, field, text):
        """The live postings of the terms `text` stands for in `field`: itself, or a folded term's readings
        (`CommitPostings.readings`), as [(name, article numbers, frequencies)]."""
        found = self.files.readings(field, text)
        if self.count == self.size:  # nothing deleted
            return found
        return [(name, ids[keep], tf[keep]) for name, ids, tf in found for keep in (self.live[ids],)]

    def _read(self, granularity, text):
        """The `Term` of `text` at `granularity`."""
        return self._summed(self._readings(TEXT_FIELDS[granularity], text),
                            self._readings(TITLE_FIELDS[granularity], text))

    def _summed(self, text, title):
        """The `Term` of readings in the text and in the title: BM25F's frequencies, title and text summed
        (the title's weighted) before saturation.

        Summed per field instead, a common word in a short title outscored a
        rare one in the text, and titled articles buried untitled ones. A title's weighted counts are
        rounded to halves before they are summed (none to round while TITLE_WEIGHT is in halves), so
        that no sum, over as many as every article, needs rounding.
        """
        lists = ([(ids, 2 * tf) for _, ids, tf in text]
                 + [(ids, np.rint(2 * TITLE_WEIGHT * tf)) for _, ids, tf in title])
        return Term.summed(lists, self.size)

    def read_together(self, terms):
        """Read each folded term of `terms` [(granularity, text)] not yet kept with the readings of it `terms`
        also asks for, from one read of each field: a query typed without marks asks for "dang vien" (every
        reading), "đảng viên" (its likeliest) and "dang" as typed, and the three are side by side in the
        posting files. The rest is read when asked."""
        wanted = {(granularity, text): set() for granularity, text in terms if granularity in _READ_IN}
        for granularity, text in terms:
            group = wanted.get((_FOLDED_AS.get(granularity), fold(text)))
            if group is not None:
                group.add(text)
        for (granularity, text), readings in wanted.items():
            exact = _READ_IN[granularity]
            readings = {name for name in readings if (exact, name) not in self._cache}
            if not readings or (granularity, text) in self._cache:
                continue
            found = [self._readings(field[granularity], text) for field in (TEXT_FIELDS, TITLE_FIELDS)]
            self._cache.put((granularity, text), self._summed(*found))
            for name in readings:
                self._cache.put((exact, name), self._summed(*([r for r in field if r[0] == name] for field in found)))

    def _term(self, granularity, text, ahead=False):
        """The cached `Term` of `text` at `granularity` (`ahead`: read ahead, kept as if used twice)."""
        key = (granularity, text)
        found = self._cache.get(key)
        if found is None:
            found = self._read(granularity, text)
            self._cache.put(key, found, protected=ahead)
        return found

    def warm(self, counts, frequencies, stop):
        """Read ahead the longest posting lists ({granularity: how many terms}), the ones that cost a
        first query most; within the cache's protected share, until the event `stop` is set. `frequencies`:
        {granularity: {term: how many articles hold it}}."""
        for granularity, count in counts.items():
            found = frequencies[granularity]
            for term in heapq.nlargest(count, found, key=found.get):
                if self._cache.protected_bytes > PROTECTED * 0.8 * self.cache_bytes or stop.is_set():
                    return
                self._term(granularity, term, ahead=True)

    def frequency(self, granularity, text):
        """How many live articles hold `text` at `granularity`, in title or text (nothing scored)."""
        return self._term(granularity, text).df

    def add_where_held(self, into, granularity, text, weight):
        """Add `weight` to `into` (an array over the articles) for each article holding `text` at `granularity`:
        at its postings rather than over every article, for a term kept as postings (`DENSE_SHARE`); the
        same floats as adding `weight` x its `mask`."""
        term = self._term(granularity, text)
        if term.ids is None:
            into += weight * (term.halves > 0)
        else:
            np.add.at(into, term.ids, weight)

    def held(self, granularity, text, articles):
        """Which of `articles` (ascending numbers) hold `text` at `granularity`, as a boolean array."""
        term = self._term(granularity, text)
        if term.ids is None:
            return term.halves[articles] > 0
        held = np.zeros(len(articles), dtype=bool)
        held[term.at(articles)[0]] = True
        return held

    def mask(self, granularity, text):
        """The articles holding `text` at `granularity`, in title or text, as a boolean array: from the
        article numbers alone, nothing scored (totals, facets and matching need no more)."""
        term = self._term(granularity, text)
        if term.ids is None:
            return term.halves > 0
        mask = np.zeros(self.size, dtype=bool)
        mask[term.ids] = True
        return mask

    def _bm25(self, reader, granularity, term, halves, articles, weight):
        """`weight` x BM25F of `term` for `articles`, whose frequencies are `halves`: idf x (K1 + 1) x tf /
        (tf + norm), with tf and the norm both in halves. Computed in place: over every article, for a term
        kept as one; the weight in the same product, so that every way of scoring sums the same floats.
        The frequencies are made float32 once: the sum and the quotient each converting them took a fifth
        longer; some articles' norms are taken into the array the sum is made in (15,000 of 104,586
        articles: a term's scores added in 46 µs rather than 56)."""
        tf = halves.astype(np.float32)
        norms = self.norms(reader, granularity)
        if isinstance(articles, slice):  # (every article: the norms themselves, not to be summed into)
            scores = np.add(tf, norms[articles])
        else:
            scores = np.take(norms, articles)
            scores += tf
        np.divide(tf, scores, out=tf)
        tf *= self._most(term.df, weight)
        return tf

    def _most(self, df, weight):
        """idf x (K1 + 1) x `weight`, as float32, for a term held by `df` articles: what `_bm25` multiplies a
        quotient of at most 1 by, so the most it gives (`ceiling`)."""
        return np.float32(inverse_frequency(self.count, df) * (K1 + 1) * weight)

    def kept_dense(self, granularity, text):
        """Whether `text`'s term is kept a byte per article (`Term`, `DENSE_SHARE`): held by many."""
        return self._term(granularity, text).ids is None

    def ceiling(self, granularity, text, weight):
        """The most `weight` x BM25F of `text` gives an article: its idf x (K1 + 1), which `_bm25` multiplies by a
        quotient tf / (tf + norm) of at most 1 (the same float32 product: never exceeded)."""
        return self._most(self.frequency(granularity, text), weight)

    def positions(self, articles):
        """Where each article stands among `articles` (ascending numbers), as an array over the index (-1 where
        absent), to look many terms up among them (`scores_at`); None when they are too few to pay for it."""
        if len(articles) * POSITIONS_SHARE < self.size:
            return None
        found = np.full(self.size, -1, dtype=np.int32)
        found[articles] = np.arange(len(articles), dtype=np.int32)
        return found

    def scores_at(self, reader, granularity, text, articles, weight, positions=None):
        """`weight` x the BM25F score of `text` in each of `articles` (ascending numbers; 0 where absent).
        `positions`: theirs (`positions`), when made."""
        term = self._term(granularity, text)
        if term.ids is None:  # (0 where absent: quicker than finding where it is held, for any share held)
            return self._bm25(reader, granularity, term, term.halves[articles], articles, weight)
        at, halves = term.at(articles, positions)
        found = np.zeros(len(articles), dtype=np.float32)
        found[at] = self._bm25(reader, granularity, term, halves, articles[at], weight)
        return found

    def add_scores(self, scores, reader, granularity, text, weight):
        """Add `weight` x the BM25F score of `text` to `scores` (an array over the articles)."""
        term = self._term(granularity, text)
        if term.ids is None:
            scores += self._bm25(reader, granularity, term, term.halves, slice(None), weight)  # 0 where absent
        elif len(term.ids):
            np.add.at(scores, term.ids, self._bm25(reader, granularity, term, term.halves, term.ids, weight))


_MOST_HALVES = np.iinfo(np.uint16).max


def _merged(shorter, longer):
    """Two postings lists as one, each article's frequencies summed: the shorter's found in the longer and
    added, or put in place (as `np.insert` would, in one pass for both arrays)."""
    (few, few_halves), (ids, halves) = shorter, longer
    at = np.searchsorted(ids, few)
    found = at < len(ids)
    found[found] = ids[at[found]] == few[found]
    halves = halves.copy()
    np.add.at(halves, at[found], few_halves[found])
    if found.all():
        return ids, halves
    alone = ~found
    placed = at[alone] + np.arange(int(np.count_nonzero(alone)))
    rest = np.ones(len(ids) + len(placed), dtype=bool)
    rest[placed] = False
    merged_ids = np.empty(len(rest), dtype=ids.dtype)
    merged_ids[placed], merged_ids[rest] = few[alone], ids
    merged = np.empty(len(rest), dtype=halves.dtype)
    merged[placed], merged[rest] = few_halves[alone], halves
    return merged_ids, merged


def _halves(values):
    """Frequencies in halves (`values`: twice the frequencies, whole numbers) as the smallest unsigned integers
    that hold them (at most _MOST_HALVES): two passes over the values, as many as every article."""
    most = float(values.max()) if len(values) else 0.0
    if most > _MOST_HALVES:
        values = np.minimum(values, _MOST_HALVES)
    return values.astype(np.uint8 if most < 256 else np.uint16)


class TermCache:
    """Terms within a budget of bytes, shared by threads, as a segmented LRU: a term read once waits in a
    probation segment and goes first; used again, it moves to the protected segment (at most PROTECTED of
    the budget), whose least recent fall back to probation. Plain LRU let each query's one-off terms (the
    pairs of its rarer syllables) push out the common lists every other query reads again."""

    def __init__(self, budget):
        self.budget = budget
        self.bytes = self.protected_bytes = 0
        self._probation, self._protected = OrderedDict(), OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key):
        with self._lock:
            return key in self._protected or key in self._probation

    def get(self, key):
        with self._lock:
            term = self._protected.get(key)
            if term is not None:
                self._protected.move_to_end(key)
                return term
            term = self._probation.pop(key, None)
            if term is not None:
                self._protect(key, term)
            return term

    def put(self, key, term, protected=False):
        """Keep `term` (read by one thread while another read it too: the first kept)."""
        with self._lock:
            if key in self._protected or key in self._probation:
                return
            self.bytes += term.nbytes
            if protected:
                self._protect(key, term)
            else:
                self._probation[key] = term
            while self.bytes > self.budget and len(self._probation) + len(self._protected) > 1:
                segment = self._probation or self._protected
                _, dropped = segment.popitem(last=False)
                self.bytes -= dropped.nbytes
                if segment is self._protected:
                    self.protected_bytes -= dropped.nbytes

    def _protect(self, key, term):
        self._protected[key] = term
        self.protected_bytes += term.nbytes
        while self.protected_bytes > PROTECTED * self.budget and len(self._protected) > 1:
            demoted, moved = self._protected.popitem(last=False)
            self.protected_bytes -= moved.nbytes
            self._probation[demoted] = moved


class Term:
    """A term's live postings at one granularity, title and text merged: article numbers ascending and BM25F
    frequencies to the nearest half occurrence (a title's counts 2.5), a byte each (two for the rare
    term said more than 127 times in an article, at most 32,767.5); for a term held by more than
    DENSE_SHARE of the articles, one per article (0 where absent; `ids` None), smaller, and read without
    searching. Kept as frequencies, not scores, a cached term takes a byte where a score took four."""

    __slots__ = ("ids", "halves", "df")

    def __init__(self, ids, halves, df):
        self.ids, self.halves, self.df = ids, halves, df

    @classmethod
    def summed(cls, lists, size):
        """The term of postings `lists` [(article numbers ascending, frequencies in halves: whole numbers)] in
        an index of `size` articles, each article's summed (a list holds it once): added up in an array over
        the articles when they are likely a term kept so (`DENSE_SHARE`), or more than two lists (a folded
        term's readings) hold more than 1/SCATTER of them; else two merged, more sorted together."""
        lists = [found for found in lists if len(found[0])]
        total = sum(len(ids) for ids, _ in lists)
        if total > DENSE_SHARE * size or (len(lists) > 2 and total * SCATTER > size):
            halves = np.zeros(size, dtype=np.float32)
            for ids, found in lists:
                np.add.at(halves, ids, found)  # (three times `halves[ids] += found`'s speed, numpy 2)
            held = halves > 0  # (numpy finds the nonzero of a boolean array six times as fast as of floats)
            df = int(np.count_nonzero(held))
            if df > DENSE_SHARE * size:
                return cls(None, _halves(halves), df)
            ids = np.flatnonzero(held).astype(np.int32)
            return cls(ids, _halves(halves[ids]), df)
        if len(lists) < 2:
            ids, halves = lists[0] if lists else _NOTHING
        elif len(lists) == 2:  # title and text, most terms
            ids, halves = _merged(*sorted(lists, key=lambda found: len(found[0])))
        else:
            ids = np.concatenate([ids for ids, _ in lists])
            order = np.argsort(ids, kind="stable")
            ids = ids[order]
            starts = np.flatnonzero(np.diff(ids, prepend=-1) > 0)
            ids, halves = ids[starts], np.add.reduceat(np.concatenate([found for _, found in lists])[order], starts)
        return cls(ids, _halves(halves), len(ids))  # (no more than the lists' postings: not a term kept dense)

    @property
    def nbytes(self):
        return self.halves.nbytes + (0 if self.ids is None else self.ids.nbytes)

    def at(self, articles, positions=None):
        """(positions in `articles`, ascending numbers, of those holding the term, kept as postings; their
        frequencies in halves): looked up in `positions` (theirs over the index, `Postings.positions`) when
        given and the term's postings are not far more, else searched from the shorter side."""
        if positions is not None and len(self.ids) < LOOKUP_SPAN * len(articles):
            at = positions[self.ids]
            found = at >= 0
            return at[found], self.halves[found]
        if len(self.ids) < len(articles):
            at = np.searchsorted(articles, self.ids)
            found = at < len(articles)
            found[found] = articles[at[found]] == self.ids[found]
            return at[found], self.halves[found]
        at = np.searchsorted(self.ids, articles)
        found = at < len(self.ids)
        found[found] = self.ids[at[found]] == articles[found]
        return np.flatnonzero(found), self.halves[at[found]]
