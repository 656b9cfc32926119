"""The reader's features (issue 20): suggestions as you type, related articles, the timeline, the Atom
feed, the CSV export, and the rough edges of a first visit; over the small ARCHIVE of tests/conftest.py."""

import re

import pytest

from tests.conftest import client_of, index_of


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
    assert texts(words)[:2] == ["bóng đá", "bóng chuyền"]  # in 4 articles, then 2
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


def test_a_name_with_a_word_glued_on_by_pyvi_is_not_suggested():
    from search.suggest import Suggester

    titles = [("1", "Tin Hà Nội hôm nay"), ("2", "Báo Hà Nội Mới ra số đặc biệt"), ("3", "Mưa ở Hà Nội")]
    words = {"hà_nội": 5, "hà_nội_tại": 3, "hà_nội_mới": 2}
    found = [s.text for s in Suggester(words, titles).suggest("ha n") if s.kind == "word"]
    assert found == ["Hà Nội", "Hà Nội Mới"]


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
    r = client_of(tmp_path / "none").get("/api/suggest?q=bong")
    assert r.status_code == 503 and r.get_json()["error"]


# ---------------------------------------------------------------- related articles


def related_ids(engine, article_id):
    from search.related import related

    return [r.id for r in related(engine, article_id)]


def test_related_articles_share_what_is_distinctive_never_itself(archive_engine):
    from search.related import MAX_RELATED

    ids = related_ids(archive_engine, "bd-2")
    assert "bd-2" not in ids and 0 < len(ids) <= MAX_RELATED
    assert ids[0] in ("bd-1", "bd-1-copy")  # the other football match in Hà Nội, Mỹ Đình, tiền vệ trẻ
    assert "bd-3" in ids  # football too, in another city


def test_a_syndicated_copy_is_found_and_a_story_shown_once(archive_engine):
    assert related_ids(archive_engine, "bd-1")[0] == "bd-1-copy"
    assert related_ids(archive_engine, "bd-1-copy")[0] == "bd-1"
    for article_id in ("bd-2", "bd-3", "bc-1", "dv-1"):
        ids = related_ids(archive_engine, article_id)
        assert not {"bd-1", "bd-1-copy"} <= set(ids), (article_id, ids)  # the same story once


def test_an_unknown_article_has_no_related_ones(archive_engine):
    from search.related import related

    assert related(archive_engine, "no-such-article") is None


PLACES_AND_DATES = [  # the same text; only place and date tell them apart (listed worst first)
    {"id": "x", "title": "Lũ quét ở Lào Cai", "date": "2017-08-03", "province": "Lào Cai",
     "body": "Lũ quét và sạt lở đất làm hư hỏng đường giao thông, nhiều hộ dân phải sơ tán."},
    {"id": "far-place", "title": "Tin một", "date": "2017-08-03", "province": "Cà Mau",
     "body": "Lũ quét và sạt lở đất làm hư hỏng đường giao thông, nhiều hộ dân phải sơ tán."},
    {"id": "same-place", "title": "Tin hai", "date": "2017-08-03", "province": "Lào Cai",
     "body": "Lũ quét và sạt lở đất làm hư hỏng đường giao thông, nhiều hộ dân phải sơ tán."},
    {"id": "far-date", "title": "Tin ba", "date": "2016-01-03", "province": "Lào Cai",
     "body": "Lũ quét và sạt lở đất làm hư hỏng đường giao thông, nhiều hộ dân phải sơ tán."},
    {"id": "near-date", "title": "Tin bốn", "date": "2017-08-05", "province": "Lào Cai",
     "body": "Lũ quét và sạt lở đất làm hư hỏng đường giao thông, nhiều hộ dân phải sơ tán."},
    # the title says what an article is about: its words count more than the body's
    {"id": "t", "title": "Giá vàng tăng", "date": "2017-08-03", "body": "Thị trường sôi động."},
    {"id": "about-title", "title": "Tin năm", "date": "2017-08-03", "body": "Giá vàng hôm nay."},
    {"id": "about-body", "title": "Tin sáu", "date": "2017-08-03", "body": "Thị trường hôm nay."},
]


@pytest.fixture(scope="module")
def places_engine(tmp_path_factory):
    from search.engine import Engine

    with Engine(index_of(tmp_path_factory.mktemp("places"), PLACES_AND_DATES)) as engine:
        yield engine


def test_related_prefers_the_same_province_then_nearby_dates(places_engine):
    assert related_ids(places_engine, "x")[:4] == ["same-place", "near-date", "far-date", "far-place"]


def test_related_weighs_the_title_s_words_up(places_engine):
    ids = related_ids(places_engine, "t")
    assert ids.index("about-title") < ids.index("about-body")


def test_article_page_lists_related_articles_and_its_json_too(archive_client):
    r = archive_client.get("/article/bd-2")
    html = r.get_data(as_text=True)
    section = html.split('<section class="related"')[1].split("</section>")[0]
    assert "Bài liên quan" in section
    links = re.findall(r'href="/article/([^"]+)"', section)
    assert links and "bd-2" not in links and links[0] in ("bd-1", "bd-1-copy")
    data = archive_client.get("/api/article/bd-2").get_json()
    assert data["article"]["id"] == "bd-2" and data["article"]["title"] == "Giải bóng đá U23 khai mạc ở Hà Nội"
    assert [x["id"] for x in data["related"]] == links
    assert set(data["related"][0]) == {"id", "title", "date", "source", "province"}
    assert archive_client.get("/api/article/nope").status_code == 404


# ---------------------------------------------------------------- the article page's rough edges


def article_body(html):
    return html.split('<div class="article-body">')[1].split("</div>")[0]


def test_single_newline_paragraphs_are_paragraphs_and_captions_stand_apart(archive_client):
    body = article_body(archive_client.get("/article/bd-1").get_data(as_text=True))
    paragraphs = re.findall(r"<p( class=\"caption\")?>(.*?)</p>", body, re.S)
    assert len(paragraphs) == 4
    assert [bool(caption) for caption, _ in paragraphs] == [False, True, False, False]
    assert "(Ảnh: Minh Anh)" in paragraphs[1][1]
    hn = article_body(archive_client.get("/article/hn-1").get_data(as_text=True))
    assert '<p class="caption">Người dân chờ xe buýt ở nhà chờ mới (Ảnh minh họa).</p>' in hn


@pytest.mark.parametrize("q", ["Hà Nội", "bong da", "tiền vệ", "Thái Lan Hà Nội"])
def test_the_match_note_counts_the_marks_shown(archive_client, q):
    html = archive_client.get("/article/bd-1", query_string={"q": q}).get_data(as_text=True)
    note = re.search(r"được tô sáng \((\d+) chỗ\)", html)
    article = html.split("<article")[1].split("</article>")[0]
    assert note and int(note.group(1)) == article.count("<mark>") > 0


# ---------------------------------------------------------------- the timeline


def test_the_timeline_facet_counts_every_month_and_sums_to_the_total(archive_client):
    data = archive_client.get("/api/search?q=bong").get_json()
    timeline = data["facets"]["timeline"]
    assert [(v["value"], v["label"], v["count"]) for v in timeline] == [
        ("2017-05", "Tháng 5/2017", 3), ("2017-06", "Tháng 6/2017", 2), ("2017-07", "Tháng 7/2017", 1)]
    assert sum(v["count"] for v in timeline) == data["total"] == 6


def test_a_long_span_is_counted_by_year_with_empty_years_and_undated_articles_last():
    from collections import Counter

    from index.store.schema import NO_VALUE
    from search.facets import TimelineFacet
    from search.request import SearchRequest

    counts = {"month": Counter({"2013-12": 2, "2017-05": 3, "2017-06": 1, NO_VALUE: 4})}  # 43 months
    values = TimelineFacet(SearchRequest(q="x"), counts).values()
    assert [(v.value, v.count) for v in values] == [("2013", 2), ("2014", 0), ("2015", 0), ("2016", 0),
                                                   ("2017", 4), (NO_VALUE, 4)]
    assert values[0].toggle_url == "?q=x&from=2013-01-01&to=2013-12-31" and values[1].toggle_url is None
    short = TimelineFacet(SearchRequest(q="x"), {"month": Counter({"2017-05": 3, "2017-07": 1})}).values()
    assert [(v.value, v.count) for v in short] == [("2017-05", 3), ("2017-06", 0), ("2017-07", 1)]


def test_the_results_page_draws_the_timeline_as_links_with_counts_and_titles(archive_client):
    html = archive_client.get("/search?q=bong").get_data(as_text=True)
    svg = html.split('<svg class="timeline-chart"')[1].split("</svg>")[0]
    bars = re.findall(r'<a href="([^"]+)" data-count="(\d+)" aria-label="[^"]+"><title>([^<]+)</title>', svg)
    assert [(count, title) for _, count, title in bars] == [
        ("3", "Tháng 5/2017: 3 bài"), ("2", "Tháng 6/2017: 2 bài"), ("1", "Tháng 7/2017: 1 bài")]
    href = bars[1][0].replace("&amp;", "&")
    assert href == "/search?q=bong&from=2017-06-01&to=2017-06-30"
    narrowed = archive_client.get(href).get_data(as_text=True)
    assert "<strong>2</strong> kết quả" in narrowed
    assert "01/06/2017 – 30/06/2017" in narrowed  # the period, as a filter one can remove


def test_one_period_draws_no_chart(archive_client):
    assert "timeline-chart" not in archive_client.get("/search?q=xe+buýt").get_data(as_text=True)


# ---------------------------------------------------------------- Atom feed


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_feed(client, query):
    from xml.etree import ElementTree

    r = client.get("/search.atom?" + query)
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    assert r.headers["Content-Security-Policy"]
    return ElementTree.fromstring(r.data)


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_the_atom_feed_is_valid_atom_with_the_newest_matching_articles(archive_client):
    feed = atom_feed(archive_client, "q=bong")
    assert feed.tag == ATOM + "feed"
    for name in ("id", "title", "updated", "author"):  # what Atom 1.0 requires of a feed (RFC 4287, 4.1.1)
        assert feed.find(ATOM + name) is not None, name
    assert RFC3339.match(feed.findtext(ATOM + "updated"))
    links = {link.get("rel"): link.get("href") for link in feed.findall(ATOM + "link")}
    assert links["self"] == "http://localhost/search.atom?q=bong" and links["alternate"].endswith("/search?q=bong")
    entries = feed.findall(ATOM + "entry")
    ids = [e.findtext(ATOM + "id").rsplit("/", 1)[1] for e in entries]
    assert ids == ["bc-2", "bc-1", "bd-3", "bd-2", "bd-1-copy", "bd-1"]  # newest first
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.findtext(ATOM + name), name
        assert RFC3339.match(entry.findtext(ATOM + "updated"))
        assert entry.find(ATOM + "link").get("href") == entry.findtext(ATOM + "id")
        assert entry.find(ATOM + "summary").get("type") == "text" and "<mark>" not in entry.findtext(ATOM + "summary")
    assert entries[0].findtext(ATOM + "updated") == "2017-07-01T00:00:00+07:00"
    assert entries[-1].findtext(ATOM + "updated") == "2017-05-03T19:30:00+07:00"
    assert feed.findtext(ATOM + "updated") == "2017-07-01T00:00:00+07:00"


def test_the_feed_takes_every_search_parameter(archive_client):
    feed = atom_feed(archive_client, "q=bong&province=H%C3%A0+N%E1%BB%99i&from=2017-05-10")
    assert [e.findtext(ATOM + "id").rsplit("/", 1)[1] for e in feed.findall(ATOM + "entry")] == ["bc-2", "bd-2"]
    assert archive_client.get("/search.atom?q=bong&from=hôm+qua").status_code == 400


def test_the_results_page_announces_its_feed_and_links_its_csv(archive_client):
    html = archive_client.get("/search?q=bong&sort=newest").get_data(as_text=True)
    assert re.search(r'<link rel="alternate" type="application/atom\+xml" href="/search.atom\?q=bong&amp;sort=newest"',
                     html)
    assert 'href="/search.csv?q=bong&amp;sort=newest"' in html


# ---------------------------------------------------------------- CSV


def read_csv(data):
    import csv
    import io

    assert data.startswith("\ufeff".encode("utf-8"))  # spreadsheet programs then read Vietnamese right
    return list(csv.reader(io.StringIO(data.decode("utf-8")[1:])))


def test_csv_has_every_matching_article_in_the_page_s_order(archive_client):
    r = archive_client.get("/search.csv?q=bong&sort=newest")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith("attachment")
    rows = read_csv(r.data)
    assert rows[0] == ["id", "title", "date", "source", "url", "region", "province", "district", "score"]
    assert [row[0] for row in rows[1:]] == ["bc-2", "bc-1", "bd-3", "bd-2", "bd-1-copy", "bd-1"]
    first = dict(zip(rows[0], rows[-1]))
    assert first["title"] == "Đội tuyển bóng đá Việt Nam thắng Thái Lan tại Hà Nội"
    assert first["province"] == "Hà Nội" and first["region"] == "Đồng bằng sông Hồng"
    assert first["url"] == "https://example.vn/bd-1" and float(first["score"]) > 0


def test_csv_goes_past_one_page_and_stops_at_its_cap(archive_engine, monkeypatch):
    from search import request as search_request
    from search.request import SearchRequest
    from webui import exports

    monkeypatch.setattr(exports, "MAX_LIMIT", 2)  # pages of two: the rows come from several searches
    lines = list(exports.csv_rows(archive_engine, SearchRequest(q="bong")))
    assert len(lines) == 1 + 6 and search_request.MAX_LIMIT == 100
    assert len(list(exports.csv_rows(archive_engine, SearchRequest(q="bong"), cap=4))) == 1 + 4


def test_csv_with_a_bad_parameter_is_a_400(archive_client):
    assert archive_client.get("/search.csv?q=bong&province=Atlantis").status_code == 400


def test_vnsearch_search_csv(archive_index):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "webui.cli", "search", "--csv", "bong", "--sort", "newest",
                          "--index-dir", str(archive_index)], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = read_csv(out.stdout)
    assert rows[0][0] == "id" and [row[0] for row in rows[1:]][:2] == ["bc-2", "bc-1"] and len(rows) == 7


# ---------------------------------------------------------------- a first visit's rough edges


def test_home_examples_come_from_the_archive_and_find_articles(archive_client):
    html = archive_client.get("/").get_data(as_text=True)
    examples = re.findall(r'<a class="example" href="(/search\?q=[^"]+)">([^<]+)</a>', html)
    assert [text for _, text in examples] == ["bóng đá", "bong chuyen", "Hà Nội", "Việt Nam"]
    for href, _ in examples:
        assert "<strong>" in archive_client.get(href.replace("&amp;", "&")).get_data(as_text=True)  # a count


def test_the_footer_links_this_page_s_json(archive_client):
    footer = lambda url: archive_client.get(url).get_data(as_text=True).split('<footer class="site-footer">')[1]  # noqa: E731
    assert 'href="/api/search?q=bong&amp;province=H%C3%A0+N%E1%BB%99i"' in footer("/search?q=bong&province=Hà+Nội")
    assert 'href="/api/article/bd-2"' in footer("/article/bd-2?q=bong")
    assert "/api/" not in footer("/")


def test_a_search_answered_from_recent_results_does_not_say_0_ms(archive_client):
    from webui.formatting import format_ms

    for _ in range(3):  # the first searches, the next are answered from the commit's recent results
        html = archive_client.get("/search?q=bong+da").get_data(as_text=True)
        assert "(0 ms)" not in html and re.search(r"\((dưới 1 ms|\d+ ms|\d+,\d+ giây)\)", html)
    assert format_ms(0.04) == "dưới 1 ms" and format_ms(12.4) == "12 ms" and format_ms(1520) == "1,52 giây"


def test_the_places_shown_before_xem_them_never_hide_a_selected_one():
    from search.facets import FacetValue
    from webui.pages import PLACES_SHOWN, _places_shown

    values = [FacetValue(str(n), str(n), 1, n == 30, "?") for n in range(40)]
    assert _places_shown(values) == 31
    values[30].selected = False
    assert _places_shown(values) == PLACES_SHOWN


def test_dang_v_completes_to_dang_vien_on_the_sample_articles(engine):
    from search.suggest import suggester

    assert texts(suggester(engine).suggest("dang v"))[0] == "đảng viên"
