"""The reader's features (issue 20): suggestions as you type, related articles, the timeline, the Atom
feed, the CSV export, and the rough edges of a first visit; over the small ARCHIVE of tests/conftest.py."""

import pytest

from tests.conftest import ARCHIVE


@pytest.fixture(scope="module")
def archive_engine(archive_index):
    from search.engine import Engine

    with Engine(archive_index) as engine:
        yield engine


def texts(found):
    return [s.text for s in found]


# ---------------------------------------------------------------- suggestions


def test_a_prefix_typed_without_marks_completes_to_accented_words(archive_engine):
    from search.suggest import suggester

    suggest = suggester(archive_engine).suggest
    assert texts(suggest("bong d"))[0] == "bóng đá"
    assert texts(suggest("ha n"))[0] == "Hà Nội"  # written as the titles write the name
    assert texts(suggest("Hà N"))[0] == "Hà Nội"


def test_most_common_words_first_and_a_handful_at_most(archive_engine):
    from search.suggest import MAX_TITLES, MAX_WORDS, suggester

    found = suggester(archive_engine).suggest("bong")
    words = [s for s in found if s.kind == "word"]
    assert texts(words)[:2] == ["bóng đá", "bóng chuyền"]  # in 5 articles, then 3
    assert [s.articles for s in words] == sorted((s.articles for s in words), reverse=True)
    assert len(words) <= MAX_WORDS and len(found) - len(words) <= MAX_TITLES


def test_marks_typed_are_kept_as_a_condition(archive_engine):
    from search.suggest import suggester

    found = suggester(archive_engine).suggest("bóng c")
    assert texts(found)[0] == "bóng chuyền" and "bóng đá" not in texts(found)


def test_titles_complete_a_word_anywhere_in_them_and_a_syndicated_title_once(archive_engine):
    from search.suggest import suggester

    titles = [s for s in suggester(archive_engine).suggest("thai l") if s.kind == "title"]
    assert texts(titles) == ["Đội tuyển bóng đá Việt Nam thắng Thái Lan tại Hà Nội"]
    assert titles[0].id in ("bd-1", "bd-1-copy")


def test_the_end_of_a_longer_query_is_completed_after_the_words_before_it(archive_engine):
    from search.suggest import suggester

    suggest = suggester(archive_engine).suggest
    assert texts(suggest("tin bong d"))[:1] == ["tin bóng đá"]
    assert all(s.kind == "title" for s in suggest("x n"))  # "n" alone after a word completes nothing


def test_one_letter_suggests_words_but_no_titles(archive_engine):
    from search.suggest import suggester

    found = suggester(archive_engine).suggest("b")
    assert found and all(s.kind == "word" for s in found)


def test_a_word_in_a_single_article_is_not_suggested(archive_engine):
    from search.suggest import suggester

    assert "kịch tính" not in texts(suggester(archive_engine).suggest("kich"))  # bc-1 alone has it
    assert "bóng chuyền" in texts(suggester(archive_engine).suggest("bong c"))


def test_api_suggest_answers_json_with_urls_for_titles(archive_client):
    r = archive_client.get("/api/suggest?q=bong+d")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    assert data["q"] == "bong d"
    assert data["suggestions"][0] == {"text": "bóng đá", "kind": "word", "articles": 4}
    titles = [s for s in data["suggestions"] if s["kind"] == "title"]
    assert titles and all(s["url"] == f"/article/{s['id']}" for s in titles)


@pytest.mark.parametrize("q", ["", " ", "%00", "\"", "(((", "-", "x" * 5000, "%ED%A0%80", "<script>"])
def test_api_suggest_never_fails(archive_client, q):
    r = archive_client.get(f"/api/suggest?q={q}")
    assert r.status_code == 200 and isinstance(r.get_json()["suggestions"], list)
    assert b"<script>" not in r.data


def test_api_suggest_without_an_index_is_503(tmp_path):
    from webui.app import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    r = client.get("/api/suggest?q=bong")
    assert r.status_code == 503 and r.get_json()["error"]
