"""Answering a search request: matching, ranking, filters, facets, snippets, in one result.

One `Engine` per process holds the index and a searcher that is reused across
requests and reopened only when the index has changed.
"""

import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, time as day_time

from whoosh import collectors
from whoosh import query as Q
from whoosh.searching import ResultsPage

from index import gazetteer
from index.analysis import WordAnalyzer, terms
from index.schema import NO_VALUE
from index.writer import open_index
from search import ranking
from search.abbreviations import expand
from search.facets import COLUMNS, UNKNOWN, FacetColumns, facets
from search.query import parse
from search.request import BadParameter
from search.snippets import Highlighter, highlight, snippet
from search.vocabulary import Vocabulary

_WORDS = WordAnalyzer()


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

    @property
    def pages(self):
        return max(1, -(-self.total // self.limit))

    def as_dict(self):
        result = asdict(self)
        result["facets"] = {name: [v.as_dict() for v in values] for name, values in self.facets.items()}
        return result


def locality_of(fields):
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


class Engine:
    """The index as searched by one process: a searcher per thread, caches per index generation.

    Whoosh searchers share open files and are not safe to read from several
    threads at once, so each thread keeps its own, reopened (never refreshed in
    place, which keeps stale segments) when a newer commit exists. Facet
    columns and the vocabulary depend only on the commit, so threads share them.
    """

    def __init__(self, index_dir):
        self.index_dir = index_dir
        self._index = open_index(index_dir)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened = []
        self._columns = {}
        self._vocabulary = {}

    def searcher(self):
        """This thread's searcher on the last commit of the index."""
        current = getattr(self._local, "searcher", None)
        if current is None or not current.up_to_date():
            fresh = self._index.searcher()
            with self._lock:
                if current is not None:
                    self._opened.remove(current)
                    current.close()
                self._opened.append(fresh)
            self._local.searcher = current = fresh
        return current

    def _cached(self, cache, searcher, make):
        generation = searcher.reader().generation()
        with self._lock:
            if generation not in cache:
                cache.clear()  # only the newest commit is searched
                cache[generation] = make(searcher.reader())
            return cache[generation]

    def facet_columns(self, searcher):
        return self._cached(self._columns, searcher, lambda reader: FacetColumns(reader, COLUMNS))

    def vocabulary(self, searcher):
        return self._cached(self._vocabulary, searcher, Vocabulary)

    def close(self):
        with self._lock:
            for searcher in self._opened:
                searcher.close()
            self._opened.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def filter_query(self, request):
        """The facet and date filters of `request` as one Whoosh query (None when unfiltered)."""
        clauses = []
        if request.region:
            if request.region == UNKNOWN:
                clauses.append(Q.Term("region", NO_VALUE))
            else:
                region = gazetteer.find_region(request.region)
                if region is None:
                    raise BadParameter("region", f"unknown region {request.region!r}")
                clauses.append(Q.Term("region", region.name))
        if request.province:
            provinces = gazetteer.old_provinces_of(request.province)
            if not provinces:
                raise BadParameter("province", f"unknown province {request.province!r}")
            clauses.append(Q.Or([Q.Term("province", p) for p in provinces]))
        if request.district:
            districts = gazetteer.districts_named(request.district, request.province)
            if not districts:
                raise BadParameter("district", f"unknown district {request.district!r}")
            clauses.append(Q.Or([Q.Term("district", f"{d.province.name}|{d.name}") for d in districts]))
        if request.date_from or request.date_to:
            start = datetime.combine(request.date_from, day_time.min) if request.date_from else None
            end = datetime.combine(request.date_to, day_time.max) if request.date_to else None
            clauses.append(Q.DateRange("date", start, end))
        if not clauses:
            return None
        return Q.And(clauses) if len(clauses) > 1 else clauses[0]

    def search(self, request, with_facets=True):
        """Run `request` (a SearchRequest); raises BadParameter for a filter naming nothing known."""
        started = time.perf_counter()
        parsed = parse(request.q)
        searcher = self.searcher()
        filter_q = self.filter_query(request)
        result = SearchResult(query=parsed.text, total=0, page=request.page, limit=request.limit, took_ms=0.0,
                              hits=[], notices=list(parsed.notices))
        if parsed.empty:
            if request.q.strip():
                result.notices.append("Truy vấn không có từ nào để tìm.")
            if filter_q is None or request.q.strip():
                result.took_ms = _since(started)
                return result
            rank, matched = Q.Every(), _docnums(searcher, Q.Every(), filter_q)  # browsing by filters alone
        else:
            matcher = ranking.required(parsed)
            reading = self.vocabulary(searcher).reading(parsed.words) if parsed.folded else ()
            words = terms(_WORDS, parsed.free_text) if parsed.free_text and not parsed.folded else []
            matched = _docnums(searcher, matcher, filter_q)
            if not matched and len(parsed.words) > 1:
                fallback = ranking.any_word(parsed)
                matched = _docnums(searcher, fallback, filter_q)
                if matched:
                    result.fallback = True
                    result.notices.append("Không có bài nào chứa tất cả các từ; đây là các bài chứa một phần.")
                    matcher = fallback
            if not matched or result.fallback:  # the query found little: maybe a typo or a wrong mark
                result.suggestion = self.vocabulary(searcher).suggest(parsed, searcher.reader())
            rank = ranking.ranked(matcher, parsed, words, reading)
        highlighter = Highlighter.for_syllables(parsed.all_syllables() + [s for u in expand(parsed.words)
                                                                          if isinstance(u, list) for f in u for s in f])
        result.total = len(matched)
        if (request.page - 1) * request.limit < len(matched):  # Whoosh would repeat the last page instead
            result.hits = [self._hit(hit, highlighter) for hit in _page(searcher, rank, matched, request)]
        if with_facets:
            result.facets = facets(self.facet_columns(searcher), matched, request)
        result.filters = {k: v for k, v in request.params() if k not in ("q", "page", "limit", "sort")}
        result.took_ms = _since(started)
        return result

    def _hit(self, hit, highlighter):
        fields = hit.fields()
        text = "\n\n".join(p for p in (fields.get("lead"), fields.get("body")) if p)
        return Hit(
            id=fields["id"], title=fields.get("title") or "",
            title_html=highlight(fields.get("title") or "", highlighter),
            date=fields.get("published"), source=fields.get("source"), url=fields.get("url"),
            score=round(hit.score or 0.0, 4), snippet=snippet(text, highlighter), locality=locality_of(fields),
        )

    def article(self, article_id):
        """The stored article with this id, or None."""
        fields = self.searcher().document(id=article_id)
        if fields is None:
            return None
        fields = dict(fields)
        fields["locality"] = locality_of(fields)
        return fields


def _since(started):
    return round((time.perf_counter() - started) * 1000, 1)


def _docnums(searcher, q, filter_q):
    """The matching documents, unscored: for the total and the facet counts."""
    found = set(searcher.docs_for_query(q))
    if filter_q is not None and found:
        found &= set(searcher.docs_for_query(filter_q))
    return found


def _page(searcher, q, matched, request):
    """One page of hits among `matched`, by score or by date; the same order on every page.

    Whoosh's default collector prunes the query as the minimum score rises,
    from estimates of each clause's best score that boosted clauses get
    wrong: the top 10 would then miss hits that the top 20 holds, and page 2
    repeat page 1. Every matching document is scored instead.
    """
    limit = request.page * request.limit
    if request.sort == "relevance":
        inner = collectors.TopCollector(limit, usequality=False, replace=0)
    else:
        inner = collectors.SortingCollector("date", limit=limit, reverse=request.sort == "newest")
    collector = collectors.FilterCollector(inner, allow=matched)
    searcher.search_with_collector(q, collector)
    return ResultsPage(collector.results(), request.page, request.limit)
