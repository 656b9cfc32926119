"""Compaction: an index updated run after run stays the size of a fresh one, and answers as a fresh one."""

import shutil

import pytest
from whoosh import index as whoosh_index

from index.store import compaction
from index.writer import index_articles
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import write_jsonl

PROVINCES = ["Cần Thơ", "Hà Nội", "Đà Nẵng"]
QUERIES = ["nông dân", "lúa gạo", "sửa lại", "dang vien", "cần thơ", "bản tin"]


def records(n, version):
    return [{"id": f"a{i}", "title": f"Nông dân số {i} bản tin {version}", "province": PROVINCES[i % 3],
             "date": f"2017-0{1 + i % 3}-1{i % 9}",
             "body": f"Bài {i} về lúa gạo ở {PROVINCES[i % 3]}. Đảng viên {i % 5} giúp bà con."
                     + (f" Sửa lại lần {version}." if version else "")} for i in range(n)]


def folder_bytes(path):
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def answers(index_dir):
    """What a reader sees for each query: the total, the facets' counts and each hit's id and score."""
    found = {}
    with Engine(index_dir, recent_results=0) as engine:
        for q in QUERIES:
            result = engine.search(SearchRequest.from_params({"q": q, "limit": "50"}))
            facets = {name: sorted((v.value, v.count) for v in values) for name, values in result.facets.items()}
            found[q] = (result.total, facets, sorted((h.id, round(h.score, 4)) for h in result.hits))
    return found


@pytest.fixture(scope="module")
def updated(tmp_path_factory):
    """An index of 300 articles, then two runs each replacing 150 of them (past COMPACT_SHARE), and a fresh
    index of the same final articles."""
    tmp = tmp_path_factory.mktemp("compaction")
    index_dir = tmp / "ix"
    first = write_jsonl(tmp / "v0.jsonl", records(300, 0))
    summaries = [index_articles([first], index_dir, workers=2)]
    for version in (1, 2):
        changed = write_jsonl(tmp / f"v{version}.jsonl", records(300, version)[150 * (version - 1):150 * version])
        summaries.append(index_articles([changed], index_dir, workers=2))
    final = write_jsonl(tmp / "final.jsonl", records(300, 1)[:150] + records(300, 2)[150:])
    index_articles([final], tmp / "fresh", workers=2)
    return index_dir, tmp / "fresh", summaries


def test_an_update_run_past_the_share_drops_the_old_copies(updated):
    index_dir, _, summaries = updated
    assert [s.compacted for s in summaries] == [0, 150, 150]
    assert "compacted: the old copies of 150 replaced articles dropped" in str(summaries[2])
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        assert reader.doc_count_all() == reader.doc_count() == 300 and len(reader.leaf_readers()) == 1


def test_a_compacted_index_answers_as_a_fresh_one_and_is_its_size(updated):
    index_dir, fresh, _ = updated
    assert answers(index_dir) == answers(fresh)
    assert folder_bytes(index_dir) < 1.1 * folder_bytes(fresh)


def test_a_small_update_leaves_the_segments_as_they_are(tmp_path):
    """Below COMPACT_SHARE replaced, nothing is rewritten: compacting costs a pass over the whole index."""
    index_dir = tmp_path / "ix"
    index_articles([write_jsonl(tmp_path / "v0.jsonl", records(300, 0))], index_dir, workers=1)
    summary = index_articles([write_jsonl(tmp_path / "v1.jsonl", records(300, 1)[:20])], index_dir, workers=1)
    assert summary.compacted == 0 and summary.updated == 20
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        assert reader.doc_count_all() == 320 and reader.doc_count() == 300


def test_a_search_engine_open_during_compaction_moves_to_the_compacted_index(tmp_path):
    index_dir = tmp_path / "ix"
    index_articles([write_jsonl(tmp_path / "v0.jsonl", records(300, 0))], index_dir, workers=1)
    request = SearchRequest.from_params({"q": "sửa lại", "limit": "5"})
    with Engine(index_dir, recent_results=0) as engine:
        assert engine.search(request).total == 0
        summary = index_articles([write_jsonl(tmp_path / "v1.jsonl", records(300, 1)[:100])], index_dir, workers=1)
        assert summary.compacted == 100
        assert engine.search(request).total == 100
        assert engine.search(SearchRequest.from_params({"q": "nông dân"})).total == 300


def test_compacting_an_index_without_deleted_articles_writes_nothing(tmp_path):
    index_dir = tmp_path / "ix"
    index_articles([write_jsonl(tmp_path / "v0.jsonl", records(30, 0))], index_dir, workers=1)
    before = sorted(p.name for p in index_dir.iterdir())
    ix = whoosh_index.open_dir(str(index_dir))
    assert not compaction.worth_compacting(ix) and compaction.compact(ix) == 0
    assert sorted(p.name for p in index_dir.iterdir()) == before
    shutil.rmtree(index_dir)
