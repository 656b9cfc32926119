import json
import re
from contextlib import contextmanager

import pytest

from search.request import BadParameter, SearchRequest
from tests.conftest import write_jsonl

SEED_IDS = {"000_abc709b6f580d3e9", "001_b2fe4df160b6338f", "002_7cfa0be5b48b213f", "003_44e163ab98d69cf3",
            "004_d70c9f24cee2e267"}


def run(engine, q, **params):
    return engine.search(SearchRequest.from_params({"q": q, **params}))


def ids(result):
    return [h.id for h in result.hits]


@contextmanager
def engine_over(tmp_path, records):
    """An engine over a new index of `records` (dicts as JSON lines give them) in `tmp_path`."""
    from index.writer import index_articles
    from search.engine import Engine

    index_articles([write_jsonl(tmp_path / "r.jsonl", records)], tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        yield engine


def filler(sentence):
    """Eight articles of `sentence` with a year in it: common words, so that idf tells them apart."""
    return [{"id": f"f{i}", "title": "Tin", "body": sentence.format(year=1900 + i)} for i in range(8)]


@pytest.mark.parametrize("q", ["đảng viên", "dang vien", '"đảng viên"', "Đảng Viên", "đảng  viên?"])
def test_party_member_in_any_spelling_finds_all_five_seeds(engine, q):
    result = run(engine, q)
    assert set(ids(result)) == SEED_IDS and result.total == 5 and not result.fallback


def test_place_names_rank_their_article_first(engine):
    assert ids(run(engine, "Ngã Bảy"))[0] == "004_d70c9f24cee2e267"
    assert ids(run(engine, "Thủ Đức"))[0] == "002_7cfa0be5b48b213f"
    assert ids(run(engine, "thu duc"))[0] == "002_7cfa0be5b48b213f"


def test_a_person_is_found_only_where_named(engine):
    assert ids(run(engine, "Lê Quốc Phong")) == ["003_44e163ab98d69cf3"]


def test_quoted_phrase_must_stand_together(engine):
    assert ids(run(engine, '"Nghị quyết Trung ương 4"')) == ["000_abc709b6f580d3e9"]
    assert ids(run(engine, '"Trung ương 4 Nghị quyết"')) == []


def test_excluded_word_removes_articles(engine):
    assert set(ids(run(engine, "đảng viên -Ngã"))) == SEED_IDS - {"004_d70c9f24cee2e267"}
    assert set(ids(run(engine, 'đảng viên -"Thủ Đức"'))) == SEED_IDS - {"002_7cfa0be5b48b213f"}


def test_any_word_fallback_when_no_article_has_every_word(engine):
    result = run(engine, "Ngã Bảy xyzzyq")
    assert result.fallback and result.notices
    assert ids(result)[0] == "004_d70c9f24cee2e267"


@pytest.mark.parametrize("typed, meant", [
    ("Thủ Đúc", "thủ đức"),  # a wrong mark, put right by the word it belongs to
    ("Ngã Bẩy", "ngã bảy"),
    ("Dảng viên", "đảng viên"),
    ("Lê Quốc Phog", "lê quốc phong"),  # a typo, one letter away
    ("nga bayy", "ngã bảy"),  # no marks and a typo
])
def test_did_you_mean_respells_a_query_that_finds_little(engine, typed, meant):
    assert run(engine, typed).suggestion == meant


def test_no_suggestion_for_a_query_that_is_spelled_right(engine):
    assert run(engine, "Thủ Đức").suggestion is None
    assert run(engine, "dang vien").suggestion is None


def test_exact_diacritics_rank_above_a_folded_match(tmp_path):
    with engine_over(tmp_path, [
        {"id": "collision", "title": "Tin sáng", "body": "Người đang viện dẫn số liệu, đang viện lý do."},
        {"id": "exact", "title": "Tin chiều", "body": "Chi bộ kết nạp đảng viên mới."},
    ]) as engine:
        assert ids(run(engine, "dang vien")) == ["exact"]  # read as the archive's word
        assert ids(run(engine, "dang vien", exact="1")) == ["exact", "collision"]  # every reading


def test_an_article_with_the_rare_words_beats_one_with_the_common_ones(tmp_path):
    with engine_over(tmp_path, filler("Năm {year} có nhiều người chết vì dịch bệnh.") + [
        {"id": "common", "title": "Tin", "body": "Ông chết năm 869, chết năm ấy ở Baghdad; năm nào cũng nhớ."},
        {"id": "rare", "title": "Tin", "body": "Tesla qua đời vào ngày 7 tháng 1 năm 1943."},
    ]) as engine:
        assert ids(run(engine, "Tesla chết năm nào?"))[0] == "rare"


def test_a_question_finds_the_answer_that_lacks_some_of_its_words(tmp_path):
    with engine_over(tmp_path, filler("Năm {year} có nhiều người chết vì dịch bệnh.") + [
        {"id": "chance", "title": "Tin", "body": "Năm nào cũng có người chết vào mùa lũ; Nikola nói xe Tesla "
                                                  "mới vào thị trường năm nay."},
        {"id": "answer", "title": "Tin", "body": "Nikola Tesla qua đời vào ngày 7 tháng 1 năm 1943."},
    ]) as engine:
        result = run(engine, "Nikola Tesla chết vào năm nào?")
        assert "answer" in ids(result) and not result.fallback  # every word is not required of a question
        assert set(ids(run(engine, "Tesla chết năm"))) == {"chance"}  # a few keywords are all required


def test_a_name_typed_without_marks_counts_as_much_as_a_word_with_them(tmp_path):
    with engine_over(tmp_path, filler("Năm {year} có nhiều người ở lại làng.") + [
        {"id": "verb", "title": "Tin", "body": "Ông ấy chết vào năm 869."},
        {"id": "name", "title": "Tin", "body": "Tesla qua đời năm 1943."},
    ]) as engine:
        assert ids(run(engine, "Tesla chết năm nào?"))[0] == "name"


def test_a_word_a_question_repeats_counts_once(tmp_path):
    with engine_over(tmp_path, filler("Năm {year} có nhiều người ở lại làng.") + [
        {"id": "repeated", "title": "Tin", "body": "Trận đấu hay nhất mùa."},
        {"id": "answer", "title": "Tin", "body": "Broncos thắng trận 24-10 ở Denver."},
    ]) as engine:
        assert ids(run(engine, "Trận đấu nào Broncos thắng trong trận đấu?"))[0] == "answer"


def test_an_index_made_by_another_version_asks_for_a_rebuild(tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema

    from index.store.directory import IndexUnavailable
    from search.engine import Engine

    (tmp_path / "ix").mkdir()
    whoosh_index.create_in(str(tmp_path / "ix"), Schema(id=ID(stored=True), text=TEXT))
    with pytest.raises(IndexUnavailable, match="--rebuild"):
        Engine(tmp_path / "ix")


def test_an_index_with_posting_files_of_another_format_asks_for_a_rebuild(tmp_path):
    """Its terms would be looked up by another hash: found nowhere, with no error."""
    from index.store import postingfile
    from index.store.directory import IndexUnavailable
    from index.writer import index_articles
    from search.engine import Engine
    from tests.conftest import SEEDS

    index_articles([SEEDS], tmp_path / "ix", workers=1)
    for path in (tmp_path / "ix").glob("*" + postingfile.EXTENSION):
        data = path.read_bytes()
        path.write_bytes(b"VNPOST03" + data[len(postingfile.MAGIC):])
    with pytest.raises(IndexUnavailable, match="--rebuild"):
        Engine(tmp_path / "ix")
    summary = index_articles([SEEDS], tmp_path / "ix", workers=1, rebuild=True)
    with Engine(tmp_path / "ix") as engine:
        assert summary.indexed == 5 and run(engine, "Thủ Đức").total >= 1


@pytest.mark.parametrize("q", ['"', '"""', "(", ")", "-", "- -", "*", "?", "AND", "OR NOT", "\x00", "\ud800",
                               "đảng viên\x00", "a" * 10_000, "Ngã Bảy " * 500, "-đảng", '"đảng viên', "::", "\\"])
def test_malformed_queries_never_raise(engine, q):
    result = run(engine, q)
    assert len(result.hits) == min(result.total, result.limit)  # the first page of what was found
    json.dumps(result.as_dict(), ensure_ascii=False).encode("utf-8")  # the API can serialise it


def test_overlong_query_is_cut_with_a_notice(engine):
    result = run(engine, "đảng viên " * 200)
    assert len(result.query) <= 256 and result.notices


def test_snippet_marks_query_words_and_escapes_article_text(engine):
    result = run(engine, "Thủ Đức")
    snippet = result.hits[0].snippet
    assert "<mark>Thủ Đức</mark>" in snippet
    assert not re.search(r"<(?!/?mark>)", snippet)


def test_a_question_marks_its_telling_words_not_its_function_words(tmp_path):
    article = {"id": "a", "title": "Tin", "body": "Các đảng viên của chi bộ đã được khen thưởng."}
    with engine_over(tmp_path, [article]) as engine:
        question = run(engine, "các đảng viên của chi bộ đã được khen thưởng chưa?").hits[0].snippet
        keywords = run(engine, "của chi bộ").hits[0].snippet
    assert "<mark>đảng viên</mark>" in question and "<mark>khen thưởng</mark>" in question
    assert "<mark>của</mark>" not in question and "<mark>Các</mark>" not in question
    assert "<mark>của chi bộ</mark>" in keywords  # a short query marks every word


def test_json_result_shape(engine):
    data = json.loads(json.dumps(run(engine, "đảng viên", limit="2").as_dict()))
    assert {"query", "total", "page", "took_ms", "hits", "facets"} <= set(data)
    assert data["total"] == 5 and len(data["hits"]) == 2
    assert {"id", "title", "date", "source", "url", "score", "snippet", "locality"} <= set(data["hits"][0])


def test_a_page_past_the_last_is_empty(engine):
    result = run(engine, "đảng viên", page="9")
    assert result.total == 5 and result.hits == []


def test_pages_do_not_overlap(engine):
    first = ids(run(engine, "đảng viên", limit="2"))
    second = ids(run(engine, "đảng viên", limit="2", page="2"))
    assert first and second and not set(first) & set(second)


@pytest.mark.parametrize("params, name", [
    ({"page": "0"}, "page"), ({"page": "x"}, "page"), ({"limit": "101"}, "limit"), ({"limit": "-1"}, "limit"),
    ({"from": "2023-13-01"}, "from"), ({"to": "hôm qua"}, "to"), ({"sort": "random"}, "sort"),
    ({"from": "2024-01-01", "to": "2023-01-01"}, "to"),
])
def test_bad_parameters_are_named(params, name):
    with pytest.raises(BadParameter) as e:
        SearchRequest.from_params({"q": "x", **params})
    assert e.value.name == name


def test_paging_through_every_hit_returns_each_once(tmp_path):
    """The top 10 must be the first 10 of the top 20: boosted clauses must not prune real hits."""
    records = [{"id": f"a{i:03d}", "title": f"Bản tin số {i}",
                "body": " ".join(["Dịch covid lan rộng."] * (i % 7 + 1) + ["Người dân ở nhà."] * (i % 11))}
               for i in range(150)]
    with engine_over(tmp_path, records) as engine:
        for q in ("covid", "dịch covid", "dich covid"):
            seen = []
            for page in range(1, 16):
                seen += ids(run(engine, q, page=str(page)))
            assert len(seen) == len(set(seen)) == 150, q
            first = run(engine, q, limit="100").hits
            assert [h.score for h in first] == sorted((h.score for h in first), reverse=True)


def test_closing_the_engine_stops_its_read_ahead(seeds_index):
    """A read-ahead thread left running into Python's shutdown can abort the process."""
    from search.engine import Engine

    engine = Engine(seeds_index)
    run(engine, "đảng viên")
    warming = engine._commit.warming
    engine.close()
    assert not warming.is_alive()


def test_the_same_search_again_is_answered_alike_and_a_copy(engine):
    first = run(engine, "đảng viên", limit="3")
    for _ in range(2):
        again = run(engine, "đảng viên", limit="3")
        assert again.as_dict() | {"took_ms": 0} == first.as_dict() | {"took_ms": 0}
        again.hits.clear()  # what the page does past the last page: nobody else's result changes


def test_a_new_commit_is_searched_afresh(tmp_path):
    from index.writer import index_articles
    from search.engine import Engine

    index_articles([write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "title": "Mưa lớn", "body": "Mưa lớn ở Huế."}])],
                   tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        assert ids(run(engine, "mưa lớn")) == ["a"]
        index_articles([write_jsonl(tmp_path / "b.jsonl", [{"id": "b", "title": "Mưa lớn", "body": "Mưa lớn."}])],
                       tmp_path / "ix", workers=1)
        assert sorted(ids(run(engine, "mưa lớn"))) == ["a", "b"]


def test_the_index_folder_is_listed_again_only_when_it_changed(tmp_path, monkeypatch):
    """Each search asks whether a newer commit exists: from the folder's modification time while it is
    unchanged and settled (listing an archive's thousand files cost half a millisecond), by listing it
    while it is recent (a change within the clock's tick keeps the time), and a new commit is always seen."""
    import os
    import time

    from index.store import directory
    from index.writer import index_articles
    from search.engine import Engine

    index_articles([write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "title": "Mưa lớn", "body": "Mưa lớn ở Huế."}])],
                   tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        assert ids(run(engine, "mưa lớn")) == ["a"]
        listings = []
        real = engine._index.latest_generation
        monkeypatch.setattr(engine._index, "latest_generation", lambda: listings.append(1) or real())
        os.utime(tmp_path / "ix")  # changed just now
        for _ in range(3):
            assert ids(run(engine, "mưa lớn")) == ["a"]
        assert len(listings) == 3  # listed each time
        settled = time.time_ns() - 2 * directory.SETTLED_NS
        os.utime(tmp_path / "ix", ns=(settled, settled))
        listings.clear()
        for _ in range(3):
            assert ids(run(engine, "mưa lớn")) == ["a"]
        assert len(listings) == 1  # listed once for the new time, then known from it
        index_articles([write_jsonl(tmp_path / "b.jsonl", [{"id": "b", "title": "Mưa lớn", "body": "Mưa lớn."}])],
                       tmp_path / "ix", workers=1)
        assert sorted(ids(run(engine, "mưa lớn"))) == ["a", "b"]


def test_an_index_deleted_under_a_running_engine_is_unavailable_until_made_again(tmp_path):
    """The pages answer 503 for IndexUnavailable: the folder gone is that, not an internal error."""
    import shutil
    import threading

    from index.store.errors import IndexUnavailable
    from index.writer import index_articles
    from search.engine import Engine

    articles = write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "title": "Mưa lớn", "body": "Mưa lớn ở Huế."}])
    index_articles([articles], tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        assert ids(run(engine, "mưa lớn")) == ["a"]
        engine.warm()  # its read-ahead done, rather than reading files as they go
        shutil.rmtree(tmp_path / "ix")
        with pytest.raises(IndexUnavailable, match=f"no index in {tmp_path / 'ix'} any more"):
            run(engine, "mưa")
        failed = []  # a thread with no searcher yet (a server's other threads) opens one: the same
        thread = threading.Thread(target=lambda: failed.append(pytest.raises(IndexUnavailable, run, engine, "mưa")))
        thread.start()
        thread.join()
        assert len(failed) == 1
        index_articles([articles], tmp_path / "ix", workers=1)
        assert ids(run(engine, "mưa lớn")) == ["a"]


def test_a_commit_replaced_while_it_was_opened_gives_way_to_the_newer_one(tmp_path):
    """A server's thread opened a searcher just before another process rebuilt the index and deleted the
    old segments' files: its search is answered from the new commit, not refused as a damaged index."""
    from index.store.errors import RebuildNeeded
    from index.writer import index_articles
    from search.engine import Engine

    index_articles([write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "title": "Mưa lớn", "body": "Mưa lớn ở Huế."}])],
                   tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        stale = engine.searcher()  # opened on the first commit, its commit not read yet
        index_articles([write_jsonl(tmp_path / "b.jsonl", [{"id": "b", "title": "Mưa lớn", "body": "Mưa lớn."}])],
                       tmp_path / "ix", rebuild=True, workers=1)
        with pytest.raises(RebuildNeeded):
            engine.commit(stale)  # its segment's posting file is gone with the rebuild
        assert ids(run(engine, "mưa lớn")) == ["b"]


def test_searches_take_turns_and_a_search_asked_again_does_not_wait(engine):
    """Searches of one process are computed one at a time (interleaved by Python's one running thread they
    all finished late); a search answered from the recent results never waits for the one computed."""
    import threading

    asked = engine.search(SearchRequest.from_params({"q": "đảng viên"}))
    finished = threading.Event()

    def other_search():
        engine.search(SearchRequest.from_params({"q": "Thủ Đức"}))
        finished.set()

    with engine._turn:  # a long search is being computed
        other = threading.Thread(target=other_search)
        other.start()
        again = threading.Thread(target=engine.search, args=(SearchRequest.from_params({"q": "đảng viên"}),))
        again.start()
        again.join(timeout=60)
        assert not again.is_alive() and not finished.is_set()
    other.join(timeout=60)
    assert finished.is_set() and asked.total == 5
