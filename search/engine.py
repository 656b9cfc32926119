"""Answering a search request: matching, ranking, filters, facets, snippets, in one result.

One `Engine` per process holds the index, a searcher per thread reused across
requests and reopened only when the index has changed, and what each commit
is read into once (posting arrays, facet columns, dates, vocabulary).
"""

import atexit
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, fields, replace

import numpy as np

from index.store.directory import LatestCommit, RebuildNeeded, open_index, open_searcher
from index.store.schema import GRANULARITIES, NO_VALUE, TEXT_FIELDS
from index.store.stored import StoredFields
from search import filters
from search.facets import COLUMNS, FacetColumns, facets
from search.filters import Dates
from search.matching import Masks
from search.meaning import Meaning
from search.postings import Postings, frequencies_by_field
from search.query import parse
from search.ranking import Ranking, by_date
from search.request import SearchRequest
from search.snippets import Highlighter, highlight, snippet
from search.vocabulary import Vocabulary

NOTHING_TO_FIND = "Truy vấn không có từ nào để tìm."
LOOSENED = "Không bài nào có các từ đứng liền nhau như đã gõ; đây là các bài có các từ ấy ở chỗ khác."
FALLBACK = "Không có bài nào chứa tất cả các từ; đây là các bài chứa một phần."


@dataclass
class Hit:
    id: str
    title: str
    title_html: str
    date: str
    source: str
    url: str
    score: float
    snippet: str
    locality: dict


@dataclass
class SearchResult:
    """What a search returns; the same object feeds `--json`, `/api/search` and the page."""

    query: str
    total: int
    page: int
    limit: int
    took_ms: float
    hits: list
    facets: dict = field(default_factory=dict)
    notices: list = field(default_factory=list)
    fallback: bool = False  # no article had every word: these have some of them
    suggestion: str = None  # "Có phải bạn muốn tìm"
    filters: dict = field(default_factory=dict)
    reading: str = None  # the query as read ("đảng viên" for `dang vien`), where that differs from what was typed
    exact: bool = False  # every reading of what was typed was matched (`exact=1`)
    alternative: dict = None  # the other search's changed parameters: every reading, or the reading again

    @property
    def pages(self):
        return max(1, -(-self.total // self.limit))

    def as_dict(self):
        """As JSON shows it (built by hand: `dataclasses.asdict` took 10 ms for a page of ten hits)."""
        result = {f.name: getattr(self, f.name) for f in fields(self)}
        result["hits"] = [dict(vars(hit)) for hit in self.hits]
        result["facets"] = {name: [v.as_dict() for v in values] for name, values in self.facets.items()}
        result["notices"], result["filters"] = list(self.notices), dict(self.filters)
        return result


def stored_locality(fields):
    """The locality of a stored article, as the API shows it."""
    province = fields.get("province")
    if not province or province == NO_VALUE:
        return None
    district = fields.get("district")
    return {
        "region": fields.get("region") or None,
        "province": province,
        "district": district.partition("|")[2] if district and district != NO_VALUE else None,
        "province_2025": fields.get("province_2025") or None,
        "confidence": fields.get("locality_confidence"),
    }


# The longest posting lists, read ahead for each commit: common syllables cost a first query most, and a
# syllable typed without marks most of all (its readings summed: "hoc", held by a quarter of the articles,
# took 0.3-0.9 ms at 104,586; the 600 most frequent take 95 MB there, 8.6 MB at 10,000; 250 of them left
# the slowest unmarked queries reading 2-3 ms of folded lists). Speed only, the hits are the same: no test
# of it at 0.
WARM = {"syllables": 300, "folded": 600, "words": 100}
# Results kept per commit: the same search again (the API and the page, a popular query, going back
# a page) is answered without searching.
RECENT_RESULTS = 256  # speed only, a search asked again finds the same: no test of it at 0


class RecentResults:
    """The commit's most recent search results by request, least recently used dropped first.

    A result is handed out as a copy, so a caller that changes it changes nobody else's.
    """

    def __init__(self, size):
        self.size = size
        self._results = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
        return None if found is None else _copy(found)

    def put(self, key, result):
        if not self.size:
            return
        with self._lock:
            self._results[key] = _copy(result)
            while len(self._results) > self.size:
                self._results.popitem(last=False)


def _copy(result):
    return replace(result, hits=list(result.hits), facets=dict(result.facets), notices=list(result.notices),
                   filters=dict(result.filters))


_COMMITS = weakref.WeakSet()  # whose read-ahead may still run


@atexit.register
def _stop_reading_ahead():
    """Stop every read-ahead before Python exits: a daemon thread caught in numpy by the interpreter's
    shutdown can abort the process ("terminate called without an active exception", Python 3.11)."""
    for commit in list(_COMMITS):
        commit.close()


class Commit:
    """What one commit of the index is read into once and shared by every thread.

    Posting arrays (see `search.postings`), the stored fields' files, facet columns and dates load
    when the commit is first searched; field lengths, the gazetteer, the vocabulary and the
    longest posting lists are read ahead in a thread of their own (a
    query that needs the vocabulary sooner waits for it) until done or `close`d.
    """

    def __init__(self, reader, index, recent_results, cache_bytes=None):
        self.generation = reader.generation()
        self.postings = Postings(reader, cache_bytes)
        self.stored = StoredFields(reader)
        self.results = RecentResults(recent_results)
        self.columns = FacetColumns(reader, COLUMNS)
        self.dates = Dates(reader, self.columns)
        self._vocabulary = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.warming = threading.Thread(target=self._warm, args=(index,), daemon=True, name="warm")
        _COMMITS.add(self)
        self.warming.start()

    def _warm(self, index):
        with index.reader() as reader:  # a reader of its own: readers are not shared between threads
            if reader.generation() == self.generation:
                if self.postings.count:
                    for granularity in GRANULARITIES:
                        self.postings.norms(reader, granularity)
                    facets(self.columns, self.postings.live, SearchRequest())  # loads the gazetteer, for labels
                frequencies = frequencies_by_field(reader, self.postings.files)  # the fields both read are read once
                vocabulary = self.vocabulary(reader, frequencies)  # first: every search waits for it
                terms = {granularity: vocabulary.folded if granularity == "folded"  # the store counts no folded term
                         else frequencies(TEXT_FIELDS[granularity]) for granularity in WARM}
                self.postings.warm(WARM, terms, self._closing)

    def close(self):
        """Stop reading ahead (the vocabulary, or at most one posting list, is finished first)."""
        self._closing.set()
        if self.warming is not threading.current_thread():
            self.warming.join()

    def vocabulary(self, reader, frequencies=None):
        with self._lock:
            if self._vocabulary is None:
                self._vocabulary = Vocabulary(frequencies or frequencies_by_field(reader, self.postings.files))
            return self._vocabulary


class Engine:
    """The index as searched by one process: a searcher per thread, one `Commit` shared by all.

    Whoosh searchers share open files and are not safe to read from several
    threads at once, so each thread keeps its own, reopened (never refreshed in
    place, which keeps stale segments) when a newer commit exists.
    """

    def __init__(self, index_dir, recent_results=RECENT_RESULTS, cache_bytes=None):
        """`recent_results`: how many results each commit keeps for the same search asked again (0: none);
        `cache_bytes`: how many bytes of posting lists it keeps decoded (default: as the archive's size
        asks, `search.postings.cache_budget`)."""
        self.index_dir = index_dir
        self.recent_results = recent_results
        self.cache_bytes = cache_bytes
        self._index = open_index(index_dir)
        self._latest = LatestCommit(self._index)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened = []
        self._commit = None
        # Searches are computed one at a time: Python runs one thread at a time, so interleaved by the GIL
        # several searches all finish late; in turn each finishes as soon as it can (a server's p95 halves).
        self._turn = threading.Lock()

    def searcher(self):
        """This thread's searcher on the last commit of the index."""
        current = getattr(self._local, "searcher", None)
        if current is None or current.reader().generation() != self._latest.generation():
            fresh = open_searcher(self._index)
            with self._lock:
                if current is not None:
                    self._opened.remove(current)
                    current.close()
                self._opened.append(fresh)
            self._local.searcher = current = fresh
        return current

    def current(self):
        """This thread's searcher and the shared state of the commit it reads.

        A commit an indexing run superseded while it was being opened may have lost its files to the run's
        clean-up (a rebuild deletes the old segments): the newer commit is opened instead.
        """
        while True:
            searcher = self.searcher()
            try:
                return searcher, self.commit(searcher)
            except RebuildNeeded:
                if searcher.up_to_date():
                    raise

    def commit(self, searcher):
        """The shared state of the commit `searcher` reads (only the newest is kept)."""
        reader = searcher.reader()
        with self._lock:
            if self._commit is None or self._commit.generation != reader.generation():
                self._commit = Commit(reader, self._index, self.recent_results, self.cache_bytes)
            return self._commit

    def warm(self):
        """Load the last commit and wait until its longest posting lists are read (benchmarks, servers)."""
        self.current()[1].warming.join()

    def close(self):
        with self._lock:
            if self._commit is not None:
                self._commit.close()
            for searcher in self._opened:
                searcher.close()
            self._opened.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def search(self, request, with_facets=True):
        """Run `request` (a SearchRequest); raises BadParameter for a filter naming nothing known.

        The same request on the same commit is answered from its recent results, without waiting its turn.
        """
        started = time.perf_counter()
        searcher, commit = self.current()
        key = (request, with_facets)
        result = commit.results.get(key)
        if result is None:
            with self._turn:
                result = commit.results.get(key)  # asked meanwhile by another thread
                if result is None:
                    result = self._search(request, with_facets, searcher, commit)
                    commit.results.put(key, result)
        result.took_ms = _since(started)
        return result

    def _search(self, request, with_facets, searcher, commit):
        parsed = parse(request.q)
        reader = searcher.reader()
        allowed = filters.allowed(request, commit.columns, commit.dates)
        result = SearchResult(query=parsed.text, total=0, page=request.page, limit=request.limit, took_ms=0.0,
                              hits=[], notices=list(parsed.notices))
        if parsed.empty:
            if request.q.strip():
                result.notices.append(NOTHING_TO_FIND)
            if allowed is None or request.q.strip():
                return result
            matched = allowed & commit.postings.live  # browsing by filters alone
            ranking = None
            highlighter = Highlighter.of([])
        else:
            meaning = Meaning(parsed, commit.vocabulary(reader), Masks(commit.postings), exact=request.exact)
            if meaning.empty:  # only exclusions
                result.notices.append(NOTHING_TO_FIND)
                return result
            ranking = Ranking(commit.postings, reader, meaning)
            matched = ranking.matches(allowed)
            if ranking.loosened:
                result.notices.append(LOOSENED)
            if ranking.fallback:
                result.fallback = True
                result.notices.append(FALLBACK)
            else:  # a reading of words no article holds together says nothing
                self._readings(result, meaning)
            result.suggestion = meaning.suggestion()
            highlighter = Highlighter.of(meaning.marks(loose=ranking.loosened or ranking.fallback))
        result.total = int(np.count_nonzero(matched))
        first = (request.page - 1) * request.limit
        if first < result.total:
            count = request.page * request.limit
            if request.sort == "relevance" and ranking is not None:
                ids, scores = ranking.best(matched, count)
                ids, scores = ids[first:], scores[first:]
            else:  # by date, or browsing by filters alone in index order: only the hits shown are scored
                ids = (by_date(matched, commit.dates.values, commit.dates.dated, count, request.sort == "newest")
                       if request.sort != "relevance" else np.flatnonzero(matched)[:count])[first:]
                scores = ranking.scores_in(ids) if ranking is not None else np.zeros(len(ids), dtype=np.float32)
            result.hits = [self._hit(commit.stored, int(n), float(score), highlighter) for n, score in zip(ids, scores)]
        if with_facets:
            result.facets = facets(commit.columns, matched, request)
        result.filters = {k: v for k, v in request.params() if k not in ("q", "page", "limit", "sort")}
        return result

    @staticmethod
    def _readings(result, meaning):
        """The reading used and the search that matches every reading instead (or, from that one, the
        reading again), as web search offers them: «Kết quả cho đảng viên · Tìm chính xác: dang vien»."""
        result.exact = meaning.exact
        result.reading = (meaning.read_as if not meaning.exact
                          else Meaning(meaning.parsed, meaning.vocabulary, meaning.masks).read_as)
        if result.reading:
            result.alternative = {"exact": not meaning.exact}

    def highlighter(self, q, exact=False, loose=False):
        """What a page marks for the query `q`: the same marks as a search's snippets (`loose`: every
        syllable alone, as when no article held the words as read)."""
        parsed = parse(q)
        if parsed.empty:
            return Highlighter.of([])
        searcher, commit = self.current()
        reader = searcher.reader()
        masks = Masks(commit.postings)
        return Highlighter.of(Meaning(parsed, commit.vocabulary(reader), masks, exact).marks(loose))

    def _hit(self, stored, docnum, score, highlighter):
        fields = stored.fields(docnum)
        text = "\n\n".join(p for p in (fields.get("lead"), fields.get("body")) if p)
        return Hit(
            id=fields["id"], title=fields.get("title") or "",
            title_html=highlight(fields.get("title") or "", highlighter),
            date=fields.get("published"), source=fields.get("source"), url=fields.get("url"),
            score=round(score, 4), snippet=snippet(text, highlighter), locality=stored_locality(fields),
        )

    def article(self, article_id):
        """The stored article with this id, or None."""
        searcher, commit = self.current()
        fields = commit.stored.article(searcher, article_id)
        if fields is None:
            return None
        fields["locality"] = stored_locality(fields)
        return fields


def _since(started):
    return round((time.perf_counter() - started) * 1000, 1)
