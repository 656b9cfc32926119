"""The best articles, scored one by one or over whole arrays, are the ones every article scored ranks first,
with the same scores to the bit."""

import random

import numpy as np
import pytest

from index.analysis.normalize import fold
from index.writer import index_articles
from search import postings, ranking
from search.engine import Engine
from search.matching import Masks
from search.meaning import Meaning
from search.query import parse
from search.ranking import WHOLE_ARRAYS
from search.request import SearchRequest
from tests.conftest import write_jsonl

# Common and rare words, drawn unevenly: some are in most articles, some in a handful.
WORDS = ("nông dân, lúa gạo, thu hoạch, đảng viên, thành phố, Hà Nội, Thủ Đức, giá vàng, bóng đá, đội tuyển, "
         "ngân hàng, lãi suất, học sinh, giáo viên, bệnh viện, bác sĩ, mưa lớn, lũ quét, xuất khẩu, cà phê, "
         "hạt điều, điện thoại, xe máy, tai nạn, giao thông, cảnh sát, Quốc hội, đại biểu, du lịch, biển đảo, "
         "chứng khoán, cổ phiếu, nhà đầu tư, doanh nghiệp, thuế, tiền lương, công nhân, nhà máy, môi trường, rác thải"
         ).split(", ")
SYLLABLES = "và của các có được trong cho với một những năm người ngày đã sẽ không".split()


def _text(rng, n):
    parts = []
    for _ in range(n):
        if rng.random() < 0.4:
            parts.append(rng.choice(SYLLABLES))
        else:
            parts.append(WORDS[min(int(rng.paretovariate(0.8)) - 1, len(WORDS) - 1)])
    return " ".join(parts) + "."


@pytest.fixture(scope="module")
def ranked_index(tmp_path_factory):
    rng = random.Random(18)
    path = tmp_path_factory.mktemp("ranking")
    records = [{"id": f"a{i}", "title": _text(rng, rng.randint(2, 6)),
                "body": " ".join(_text(rng, rng.randint(3, 12)) for _ in range(rng.randint(1, 8)))}
               for i in range(400)]
    index_articles([write_jsonl(path / "articles.jsonl", records)], path / "ix", workers=1)
    return path / "ix"


def _queries(rng, n):
    for _ in range(n):
        words = rng.sample(WORDS, rng.randint(1, 4))
        if rng.random() < 0.3:
            words.append(rng.choice(SYLLABLES))
        q = " ".join(words)
        yield fold(q) if rng.random() < 0.3 else q


def _questions(rng, n):
    """Long queries (questions: matched by how much of them an article holds), half of them without marks."""
    for _ in range(n):
        q = " ".join(rng.sample(WORDS, rng.randint(4, 7)) + rng.sample(SYLLABLES, 2))
        yield fold(q) if rng.random() < 0.5 else q


@pytest.mark.parametrize("contenders_from", [0, ranking.CONTENDERS_FROM])
def test_the_best_articles_are_those_full_scoring_ranks_first(ranked_index, monkeypatch, contenders_from):
    """On random queries and questions: every article scored one by one, matches sorted by score then number,
    against `best`; with the common terms added for the contenders alone (CONTENDERS_FROM 0: some matches are
    never scored) and, in this small index by default, for every match."""
    monkeypatch.setattr(ranking, "CONTENDERS_FROM", contenders_from)
    left_out = []
    contenders = ranking.Ranking._contenders

    def recorded(self, sums, *rest):
        kept = contenders(self, sums, *rest)
        left_out.append(len(sums) - len(kept))
        return kept

    monkeypatch.setattr(ranking.Ranking, "_contenders", recorded)
    ways = set()
    with Engine(ranked_index) as engine:
        searcher = engine.searcher()
        commit = engine.commit(searcher)
        reader = searcher.reader()
        vocabulary = commit.vocabulary(reader)
        rng = random.Random(2017)
        for q in [*_queries(rng, 80), *_questions(rng, 40)]:
            masks = Masks(commit.postings)
            query = engine_ranking(commit, reader, parse(q), vocabulary, masks)
            matched = query.matches()
            everything = np.arange(commit.postings.size)
            full = query.scores_of(everything)
            ids = np.flatnonzero(matched)
            ranked = ids[np.lexsort((ids, -full[ids]))]
            for count in (1, 10, 30):
                best, scores = query.best(matched, count)
                assert best.tolist() == ranked[:count].tolist(), (q, count)
                assert scores.tobytes() == full[best].tobytes(), (q, count)
                ways.add(len(ids) * WHOLE_ARRAYS > commit.postings.size)
            some = np.sort(np.random.default_rng(0).permutation(ids)[:50])
            assert query.scores_of(some).tobytes() == full[some].tobytes(), q
            again = engine_ranking(commit, reader, parse(q), vocabulary, masks)  # its coverage not yet known
            assert again.scores_of(some).tobytes() == full[some].tobytes(), q
            assert again.coverage(some).tobytes() == query.coverage()[some].tobytes(), q
    assert ways == {True, False}  # both ways of scoring met
    assert any(left_out) if contenders_from == 0 else not left_out


@pytest.mark.parametrize("positions_share, lookup_span", [(0, 16), (1024, 0), (1024, 10 ** 9)])
def test_a_terms_postings_looked_up_among_the_articles_or_searched_score_the_same(
        ranked_index, monkeypatch, positions_share, lookup_span):
    """POSITIONS_SHARE and LOOKUP_SPAN (speed only): the same scores, to the bit, with no map of where the
    articles scored stand (searched), a map no term uses, and a map every term uses."""
    with Engine(ranked_index) as engine:
        searcher = engine.searcher()
        commit = engine.commit(searcher)
        reader = searcher.reader()
        vocabulary = commit.vocabulary(reader)
        queries = [engine_ranking(commit, reader, parse(q), vocabulary, Masks(commit.postings))
                   for q in _queries(random.Random(5), 30)]
        chosen = [np.arange(commit.postings.size), np.arange(3, commit.postings.size, 7)]
        expected = [query.scores_of(articles).tobytes() for query in queries for articles in chosen]
        monkeypatch.setattr(postings, "POSITIONS_SHARE", positions_share)
        monkeypatch.setattr(postings, "LOOKUP_SPAN", lookup_span)
        assert [query.scores_of(articles).tobytes() for query in queries for articles in chosen] == expected


@pytest.mark.parametrize("sample", [1, 16, 10 ** 6])
def test_the_best_are_the_same_however_the_floor_of_their_scores_is_sampled(monkeypatch, sample):
    """SAMPLE (speed only): `top` against a full sort, on scores with many ties, from one best to all."""
    monkeypatch.setattr(ranking, "SAMPLE", sample)
    rng = np.random.default_rng(7)
    for n in (1, 15, 1_000, 20_000):
        articles = np.sort(rng.choice(10 ** 6, n, replace=False))
        scores = rng.integers(0, 50, n).astype(np.float32) / 7
        for count in (1, 10, 300, n):
            order = np.lexsort((articles, -scores))[:count]
            best, their_scores = ranking.top(articles, scores, count)
            assert best.tolist() == articles[order].tolist() and their_scores.tobytes() == scores[order].tobytes()


def engine_ranking(commit, reader, parsed, vocabulary, masks):
    from search.ranking import Ranking

    return Ranking(commit.postings, reader, Meaning(parsed, vocabulary, masks))


def test_a_search_shows_the_scores_and_order_of_full_scoring(ranked_index):
    """Through `Engine.search`, relevance and date order: hits carry the scores full scoring gives them."""
    with Engine(ranked_index, recent_results=0) as engine:
        for sort in ("relevance", "newest"):
            result = engine.search(SearchRequest.from_params({"q": "nông dân lúa gạo", "sort": sort, "limit": "20"}))
            assert result.total > 20
            scores = [hit.score for hit in result.hits]
            if sort == "relevance":
                assert scores == sorted(scores, reverse=True)
            assert all(score > 0 for score in scores)


def test_terms_kept_a_byte_per_article_or_as_postings_find_and_rank_alike(ranked_index, monkeypatch):
    """Every term kept a byte per article (DENSE_SHARE 0) or none (1): the same totals, facets, hits, scores."""
    queries = list(_queries(random.Random(5), 40))
    results = []
    for share in (0, 1):
        monkeypatch.setattr(postings, "DENSE_SHARE", share)
        with Engine(ranked_index, recent_results=0) as engine:
            found = [engine.search(SearchRequest.from_params({"q": q, "limit": "30"})) for q in queries]
            results.append([(r.total, [(h.id, h.score) for h in r.hits], r.facets) for r in found])
    assert results[0] == results[1]
    assert sum(total > 30 for total, _, _ in results[0]) > 10  # most ranked, not only counted


def test_a_folded_term_read_with_its_readings_finds_and_ranks_alike(ranked_index, monkeypatch):
    """Queries without marks ask for "dang vien", "đảng viên" and "dang" as typed: read together (one read of
    each field, `Postings.read_together`) or one by one, the same totals, facets, hits and scores, in fewer
    reads."""
    rng = random.Random(11)
    queries = [fold(" ".join(rng.sample(WORDS, rng.randint(2, 6)))) for _ in range(30)]
    results, reads = [], []
    for together in (True, False):
        if not together:
            monkeypatch.setattr(postings.Postings, "read_together", lambda self, terms: None)
        with Engine(ranked_index, recent_results=0) as engine:
            engine.warm()  # the read-ahead's reads done and not counted
            files = engine.current()[1].postings.files
            real, calls = files.readings, []
            monkeypatch.setattr(files, "readings", lambda field, text: calls.append(field) or real(field, text))
            found = [engine.search(SearchRequest.from_params({"q": q, "limit": "30"})) for q in queries]
            results.append([(r.total, [(h.id, h.score) for h in r.hits], r.facets) for r in found])
            reads.append(len(calls))
    assert results[0] == results[1]
    assert sum(total > 0 for total, _, _ in results[0]) > 20
    assert reads[0] < 0.8 * reads[1]  # 412 against 634


def test_an_engine_keeps_no_more_posting_lists_than_told_and_finds_the_same(ranked_index):
    """A budget of 20 KB (a handful of lists): the same results as the archive's default budget, within it."""
    queries = list(_queries(random.Random(9), 30))
    results = []
    for cache_bytes in (None, 20_000):
        with Engine(ranked_index, recent_results=0, cache_bytes=cache_bytes) as engine:
            found = [engine.search(SearchRequest.from_params({"q": q})) for q in queries]
            results.append([(r.total, [(h.id, h.score) for h in r.hits]) for r in found])
            kept = engine.current()[1].postings
            assert kept.cache_bytes == (cache_bytes or postings.MIN_CACHE_BYTES)
            assert (kept._cache.bytes <= 20_000) == (cache_bytes is not None)  # the default keeps every list here
    assert results[0] == results[1]


def test_the_default_budget_grows_with_the_archive_from_32_mb():
    """As many common lists whatever the archive: a byte each per article; a small archive keeps 32 MB."""
    assert postings.cache_budget(1_000) == postings.cache_budget(10_000) == 32 * 2 ** 20 < postings.cache_budget(35_432)
    assert postings.cache_budget(1_000_000) == 10 * postings.cache_budget(100_000) > 32 * 2 ** 20
