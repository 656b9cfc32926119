"""The web page and the JSON API through Flask's test client."""

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.etree import ElementTree

import pytest

from tests.conftest import ROOT, write_jsonl

SEED_IDS = {"000_abc709b6f580d3e9", "001_b2fe4df160b6338f", "002_7cfa0be5b48b213f", "003_44e163ab98d69cf3",
            "004_d70c9f24cee2e267"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class Page(HTMLParser):
    """The parts of a page the tests look at: links, tags, element attributes, text."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags = []  # (tag, attrs dict)
        self.text = []
        self._stack = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def links(self):
        return [a["href"] for t, a in self.tags if t == "a" and "href" in a]

    @property
    def all_text(self):
        return " ".join(" ".join(self.text).split())


def page(response):
    return Page(response.get_data(as_text=True))


def hit_ids(response):
    """Article ids linked from the result list, in order."""
    html = response.get_data(as_text=True)
    return [unquote(m) for m in re.findall(r'class="hit-title"[^>]*><a href="/article/([^"?]+)', html)]


def facet_link(response, label):
    """The href of the facet value whose label is `label`."""
    html = response.get_data(as_text=True)
    m = re.search(r'<a class="facet-link[^"]*" href="([^"]+)"[^>]*>\s*<span class="facet-label">' + re.escape(label)
                  + "</span>", html)
    assert m, f"no facet {label!r}"
    return m.group(1).replace("&amp;", "&")


# ---------------------------------------------------------------- routes


def test_home_has_a_get_search_form_and_examples(client):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    p = page(r)
    assert '<html lang="vi">' in html
    form = p.find("form", role="search")[0]
    assert form["method"] == "get" and form["action"] == "/search"
    assert p.find("input", name="q", type="search")
    assert p.find("label", for_="q")
    examples = {parse_qs(urlsplit(h).query)["q"][0] for h in p.links() if h.startswith("/search?q=")}
    assert examples == {"công tác", "chinh tri", "Ngã Bảy", "xây dựng"}  # drawn from the five articles' titles
    assert "5 bài báo" in p.all_text
    assert p.find("link", rel="search", type="application/opensearchdescription+xml")
    assert p.find("link", rel="stylesheet", href="/static/style.css")
    assert p.find("a", class_="skip-link", href="#main")
    assert p.find("main", id="main") and p.find("header", class_="site-header")


def test_examples_link_to_searches_that_find_articles(client):
    p = page(client.get("/"))
    examples = [h for h in p.links() if h.startswith("/search?q=")]
    assert len(examples) == 4
    for href in examples:
        r = client.get(href)
        assert r.status_code == 200 and hit_ids(r), href


def test_search_lists_results_with_count_time_dates_sources_and_marks(client):
    r = client.get("/search?q=dang+vien")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    text = page(r).all_text
    assert set(hit_ids(r)) == SEED_IDS
    assert "5 kết quả" in text and re.search(r"\(\d+ ms\)", text)
    assert "<mark>đảng viên</mark>" in html
    assert "30/01/2024" in text and "07/10/2022" in text  # dd/mm/yyyy
    assert "Thanhuytphcm.vn" in text
    # locality chips: province (with its 2025 province) and district
    assert "Hậu Giang (nay thuộc Cần Thơ)" in text and "Ngã Bảy" in text and "Thủ Đức" in text
    # each title links to the article, carrying the query
    assert '/article/002_7cfa0be5b48b213f?q=dang+vien"' in html
    assert page(r).find("input", name="q", value="dang vien")


def test_search_without_query_or_filters_goes_home(client):
    r = client.get("/search")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")


def test_filters_without_query_browse_the_articles(client):
    r = client.get("/search?province=H%E1%BB%93+Ch%C3%AD+Minh")
    assert r.status_code == 200 and hit_ids(r) == ["002_7cfa0be5b48b213f"]


def test_sort_newest_and_oldest(client):
    newest = ["004_d70c9f24cee2e267", "001_b2fe4df160b6338f", "000_abc709b6f580d3e9", "002_7cfa0be5b48b213f",
              "003_44e163ab98d69cf3"]
    assert hit_ids(client.get("/search?q=dang+vien&sort=newest")) == newest
    assert hit_ids(client.get("/search?q=dang+vien&sort=oldest")) == newest[::-1]


def test_sort_links_keep_the_query_and_mark_the_current_one(client):
    r = client.get("/search?q=dang+vien&sort=newest")
    p = page(r)
    current = p.find("a", **{"aria-current": "true", "class": "current"})
    assert len(current) == 1 and current[0]["href"] == "/search?q=dang+vien&sort=newest"
    assert "/search?q=dang+vien&sort=oldest" in p.links()
    assert "/search?q=dang+vien" in p.links()  # relevance is the default, left out of the URL


def pagination(response):
    """{link text: query parameters} of the pagination links."""
    html = response.get_data(as_text=True)
    nav = html.split('aria-label="Phân trang"')[1].split("</nav>")[0]
    return {" ".join(re.sub("<[^>]+>", "", text).split()): parse_qs(urlsplit(href.replace("&amp;", "&")).query)
            for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', nav)}, nav


def test_pagination_prev_next_and_numbers(client):
    r = client.get("/search?q=dang+vien&limit=2")
    assert len(hit_ids(r)) == 2
    links, nav = pagination(r)
    assert links["2"] == {"q": ["dang vien"], "page": ["2"], "limit": ["2"]}
    assert links["3"]["page"] == ["3"] and links["Sau ›"]["page"] == ["2"]
    assert 'aria-current="page"' in nav and "‹ Trước" in nav and "Trước</a>" not in nav  # no previous on page 1
    r3 = client.get("/search?q=dang+vien&limit=2&page=3")
    assert len(hit_ids(r3)) == 1 and '<ol class="hits" start="5">' in r3.get_data(as_text=True)
    links3, nav3 = pagination(r3)
    assert links3["‹ Trước"]["page"] == ["2"] and "Sau ›" not in links3
    ids = hit_ids(r) + hit_ids(client.get("/search?q=dang+vien&limit=2&page=2")) + hit_ids(r3)
    assert sorted(ids) == sorted(SEED_IDS)


def test_page_numbers_show_gaps():
    from webui.pages import page_numbers

    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 10) == [1, 2, 3, None, 10]
    assert page_numbers(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert page_numbers(20, 20) == [1, None, 18, 19, 20]


def test_a_page_past_the_last_shows_no_repeated_hits(client):
    r = client.get("/search?q=dang+vien&page=9")
    assert r.status_code == 200 and hit_ids(r) == []
    assert "Trang 9 không có kết quả" in page(r).all_text
    data = client.get("/api/search?q=dang+vien&page=9").get_json()
    assert data["total"] == 5 and data["hits"] == []


def test_api_returns_the_result_as_json(client, engine):
    from search.request import SearchRequest

    r = client.get("/api/search?q=dang+vien&sort=newest")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    expected = engine.search(SearchRequest.from_params({"q": "dang vien", "sort": "newest"})).as_dict()
    assert set(data) == set(expected)
    assert [h["id"] for h in data["hits"]] == [h["id"] for h in expected["hits"]]
    assert data["total"] == 5 and data["facets"]["region"] and data["facets"]["date"]
    assert set(data["hits"][0]) == {"id", "title", "title_html", "date", "source", "url", "score", "snippet",
                                    "locality"}


def test_article_page_is_clean_and_highlighted(client):
    r = client.get("/article/002_7cfa0be5b48b213f?q=Th%E1%BB%A7+%C4%90%E1%BB%A9c")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    p = page(r)
    text = p.all_text
    assert "Tiếp tục lãnh đạo, chỉ đạo tổ chức quán triệt" in text
    assert "07/10/2022" in text and "Thanhuytphcm.vn" in text
    assert "<mark>Thủ Đức</mark>" in html
    assert html.count("<article") == 1 and html.count('<div class="article-body">') == 1
    body = html.split('<div class="article-body">')[1].split("</div>")[0]
    assert body.count("<p>") >= 4  # paragraphs split on blank lines
    assert "/search?q=Th%E1%BB%A7+%C4%90%E1%BB%A9c" in p.links()  # back to the results
    assert "Hồ Chí Minh" in text


def test_article_page_author_and_locality(client):
    r = client.get("/article/004_d70c9f24cee2e267")
    text = page(r).all_text
    assert r.status_code == 200
    assert "BẢO TOÀN" in text and "HG" in text and "30/01/2024" in text
    assert "Hậu Giang (nay thuộc Cần Thơ)" in text and "Ngã Bảy" in text
    assert "<mark>" not in r.get_data(as_text=True)  # no query, nothing marked
    assert "Thành ủy Ngã Bảy vừa tổ chức Hội nghị" in text  # the lead


def test_article_back_link_keeps_filters_and_page(client):
    r = client.get("/search?q=dang+vien&province=C%E1%BA%A7n+Th%C6%A1&sort=newest")
    href = [h for h in page(r).links() if h.startswith("/article/")][0]
    r2 = client.get(href)
    back = [h for h in page(r2).links() if h.startswith("/search?")][0]
    assert parse_qs(urlsplit(back).query) == {"q": ["dang vien"], "province": ["Cần Thơ"], "sort": ["newest"]}


def test_unknown_article_is_a_friendly_404(client):
    r = client.get("/article/no-such-article")
    assert r.status_code == 404
    text = page(r).all_text
    assert "Không tìm thấy trang" in text and "Traceback" not in text


@pytest.mark.parametrize("path", ["/article/../../etc/passwd", "/article/..%2F..%2Fetc%2Fpasswd",
                                  "/article//etc/passwd", "/article/%2e%2e/%2e%2e/etc/passwd",
                                  "/article/seeds/000_abc709b6f580d3e9.txt"])
def test_article_ids_never_reach_the_disk(client, path):
    r = client.get(path, follow_redirects=True)  # "//" is merged into "/" by a redirect first
    assert r.status_code == 404
    assert "root:" not in r.get_data(as_text=True)


def test_unknown_api_route_answers_in_json(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and r.get_json()["error"]["message"]


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "articles": 5}


def test_the_app_keeps_the_posting_lists_it_is_told_to(seeds_index):
    """CACHE_MB (`vnsearch serve --cache-mb`) bounds what the app's engine keeps decoded; it still finds."""
    from webui.app import create_app
    from webui.engine import get_engine

    app = create_app({"INDEX_DIR": str(seeds_index), "TESTING": True, "CACHE_MB": 0.5})
    assert app.test_client().get("/api/search?q=Ngã Bảy").get_json()["total"] > 0
    assert get_engine(app).current()[1].postings.cache_bytes == 2 ** 19


def test_healthz_and_pages_without_an_index(tmp_path):
    from webui.app import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["status"] != "ok"
    for url in ("/search?q=x", "/article/x"):
        r = client.get(url)
        assert r.status_code == 503
        assert str(tmp_path) not in r.get_data(as_text=True)
    assert client.get("/api/search?q=x").status_code == 503
    assert client.get("/").status_code == 200


def test_opensearch_description(client):
    r = client.get("/opensearch.xml")
    assert r.status_code == 200 and r.mimetype == "application/opensearchdescription+xml"
    text = r.get_data(as_text=True)
    assert 'template="/search?q={searchTerms}"' in text  # relative: never built from the Host header
    root = ElementTree.fromstring(r.data)
    assert root.tag == "{http://a9.com/-/spec/opensearch/1.1/}OpenSearchDescription"
    assert 'rel="search"' in client.get("/").get_data(as_text=True)


def test_static_files_are_served_by_the_app(client):
    for name, mimetype in (("style.css", "text/css"), ("app.js", "text/javascript"),
                           ("favicon.svg", "image/svg+xml")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.mimetype == mimetype, name
        r.close()


def test_no_external_resources(client):
    for url in ("/", "/search?q=dang+vien", "/article/000_abc709b6f580d3e9"):
        html = client.get(url).get_data(as_text=True)
        for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not attr.startswith(("http:", "https:", "//")), attr
    css = client.get("/static/style.css").get_data(as_text=True)
    assert "@import" not in css and "url(" not in css


# ---------------------------------------------------------------- facets


def test_province_facet_narrows_to_ho_chi_minh(client):
    r = client.get("/search?q=dang+vien")
    href = facet_link(r, "Hồ Chí Minh")
    assert parse_qs(urlsplit(href).query) == {"q": ["dang vien"], "province": ["Hồ Chí Minh"]}
    r2 = client.get(href)
    assert hit_ids(r2) == ["002_7cfa0be5b48b213f"]
    assert "1 kết quả" in page(r2).all_text
    # the value is now selected, and its link removes it
    selected = page(r2).find("a", **{"aria-current": "true", "class": "facet-link selected"})
    assert selected and selected[0]["href"] == "/search?q=dang+vien"


def test_can_tho_includes_hau_giang_merged_in_2025(client):
    r = client.get("/search?q=dang+vien&province=C%E1%BA%A7n+Th%C6%A1")
    assert hit_ids(r) == ["004_d70c9f24cee2e267"]
    assert "Hậu Giang (nay thuộc Cần Thơ)" in page(r).all_text
    assert page(r).find("a", **{"aria-current": "true", "class": "facet-link selected"})


def test_region_then_province_then_district(client):
    r = client.get("/search?q=dang+vien")
    html = r.get_data(as_text=True)
    assert 'level-0' in html and 'level-1' in html
    r = client.get(facet_link(r, "Đồng bằng sông Cửu Long"))
    assert set(hit_ids(r)) == {"004_d70c9f24cee2e267", "003_44e163ab98d69cf3"}
    r = client.get(facet_link(r, "Hậu Giang (nay thuộc Cần Thơ)"))
    assert hit_ids(r) == ["004_d70c9f24cee2e267"]
    assert "level-2" in r.get_data(as_text=True)
    r = client.get(facet_link(r, "Ngã Bảy"))
    assert hit_ids(r) == ["004_d70c9f24cee2e267"]
    assert parse_qs(urlsplit(r.request.url).query)["district"] == ["Ngã Bảy"]


def test_year_then_month_facets(client):
    r = client.get("/search?q=dang+vien")
    r = client.get(facet_link(r, "Năm 2024"))
    assert set(hit_ids(r)) == {"004_d70c9f24cee2e267", "001_b2fe4df160b6338f"}
    assert "01/01/2024 – 31/12/2024" in page(r).all_text  # the chip
    r = client.get(facet_link(r, "Tháng 1/2024"))
    assert set(hit_ids(r)) == {"004_d70c9f24cee2e267", "001_b2fe4df160b6338f"}
    assert page(r).find("input", name="from", value="2024-01-01")
    assert page(r).find("input", name="to", value="2024-01-31")


def test_date_form_keeps_query_and_filters(client):
    r = client.get("/search?q=dang+vien&province=C%E1%BA%A7n+Th%C6%A1&sort=oldest")
    html = r.get_data(as_text=True)
    form = html.split('class="date-form"')[1].split("</form>")[0]
    assert 'method="get"' in html.split('class="date-form"')[1][:80]
    assert '<input type="hidden" name="q" value="dang vien">' in form
    assert '<input type="hidden" name="province" value="Cần Thơ">' in form
    assert '<input type="hidden" name="sort" value="oldest">' in form
    assert 'name="from" value=""' in form and 'name="to" value=""' in form
    r = client.get("/search?q=dang+vien&from=2023-01-01&to=2023-12-31")
    assert hit_ids(r) == ["000_abc709b6f580d3e9"]


def test_dates_are_shown_and_typed_day_first_and_the_url_stays_iso(client):
    """Results show dd/mm/yyyy: so do the date fields (not the browser's mm/dd/yyyy), and a date typed so
    comes back as the same search with an ISO URL."""
    r = client.get("/search?q=dang+vien&from=01/01/2023&to=31/12/2023")
    assert r.status_code == 302 and r.headers["Location"] == "/search?q=dang+vien&from=2023-01-01&to=2023-12-31"
    form = client.get(r.headers["Location"]).get_data(as_text=True).split('class="date-form"')[1]
    assert 'id="date-from" type="text" inputmode="numeric" name="from" value="01/01/2023"' in form
    assert 'name="to" value="31/12/2023"' in form and "ngày/tháng/năm" in form


def test_filter_chips_remove_one_and_clear_all_keeps_the_query(client):
    r = client.get("/search?q=dang+vien&province=C%E1%BA%A7n+Th%C6%A1&from=2024-01-01&to=2024-12-31")
    p = page(r)
    removes = [a["href"] for a in p.find("a", class_="chip-remove")]
    assert len(removes) == 2
    assert "/search?q=dang+vien&from=2024-01-01&to=2024-12-31" in removes
    assert "/search?q=dang+vien&province=C%E1%BA%A7n+Th%C6%A1" in removes
    clear = p.find("a", class_="clear-filters")
    assert clear and clear[0]["href"] == "/search?q=dang+vien"
    assert "xóa bộ lọc" in p.all_text
    assert set(hit_ids(client.get(clear[0]["href"]))) == SEED_IDS


def test_the_search_box_keeps_filters_as_hidden_inputs(client):
    r = client.get("/search?q=dang+vien&province=C%E1%BA%A7n+Th%C6%A1&page=1")
    form = r.get_data(as_text=True).split('role="search"')[1].split("</form>")[0]
    assert '<input type="hidden" name="province" value="Cần Thơ">' in form
    assert 'name="page"' not in form


# ---------------------------------------------------------------- no results


def test_no_results_says_so_with_a_suggestion_or_tips(client):
    r = client.get("/search?q=xyzzyq")
    assert r.status_code == 200
    assert "Không tìm thấy kết quả" in page(r).all_text and hit_ids(r) == []


def test_suggestion_is_a_link(client, engine, monkeypatch):
    from search.engine import Engine

    original = Engine.search

    def with_suggestion(self, request, **kw):
        result = original(self, request, **kw)
        result.suggestion = "đảng viên"
        return result

    monkeypatch.setattr(Engine, "search", with_suggestion)
    r = client.get("/search?q=xyzzyq")
    assert "Có phải bạn muốn tìm:" in page(r).all_text
    assert "/search?q=%C4%91%E1%BA%A3ng+vi%C3%AAn" in page(r).links()


def test_any_word_fallback_notice(client):
    r = client.get("/search?q=Ng%C3%A3+B%E1%BA%A3y+xyzzyq")
    assert hit_ids(r)[0] == "004_d70c9f24cee2e267"
    assert "Không có bài nào chứa tất cả các từ" in page(r).all_text


def test_filtered_to_nothing_offers_to_clear_filters(client):
    r = client.get("/search?q=%22Th%E1%BB%A7+%C4%90%E1%BB%A9c%22&province=C%E1%BA%A7n+Th%C6%A1")
    text = page(r).all_text
    assert hit_ids(r) == [] and "Không tìm thấy kết quả" in text
    assert "bỏ các bộ lọc" in text


# ---------------------------------------------------------------- bad parameters

BAD = [
    ("page=0", "page"), ("page=abc", "page"), ("page=-1", "page"), ("limit=101", "limit"), ("limit=0", "limit"),
    ("from=2023-13-45", "from"), ("to=2023-02-30", "to"), ("from=2024-02-01&to=2024-01-01", "to"),
    ("sort=x", "sort"), ("province=Atlantis", "province"), ("district=Nowhere", "district"),
    ("region=Mars", "region"),
]


@pytest.mark.parametrize("params,name", BAD)
def test_bad_parameter_is_a_400_from_the_api_naming_it(client, params, name):
    r = client.get(f"/api/search?q=dang+vien&{params}")
    assert r.status_code == 400 and r.mimetype == "application/json"
    error = r.get_json()["error"]
    assert error["parameter"] == name and error["message"]


@pytest.mark.parametrize("params,name", BAD)
def test_bad_parameter_is_a_friendly_400_page(client, params, name):
    r = client.get(f"/search?q=dang+vien&{params}")
    assert r.status_code == 400 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    p = page(r)
    assert '<html lang="vi">' in html
    assert "Yêu cầu không hợp lệ" in p.all_text
    assert p.find("p", **{"data-parameter": name})
    assert "Traceback" not in html and "BadParameter" not in html
    # a way out: the same search without the bad parameter
    retry = [h for h in p.links() if h.startswith("/search?")]
    assert retry and all(f"{name}=" not in h for h in retry[:1])
    assert client.get(retry[0]).status_code in (200, 400)


def test_bad_parameter_messages_are_vietnamese(client):
    assert "Số trang" in page(client.get("/search?q=a&page=0")).all_text
    assert "Ngày kết thúc" in page(client.get("/search?q=a&from=2024-02-01&to=2024-01-01")).all_text
    assert "tỉnh/thành phố" in page(client.get("/search?q=a&province=Atlantis")).all_text


# ---------------------------------------------------------------- safety

XSS_QUERY = "<script>alert(1)</script>"
XSS_TEXT = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def xss_index(tmp_path_factory):
    from index.writer import index_articles

    tmp = tmp_path_factory.mktemp("xss")
    records = write_jsonl(tmp / "x.jsonl", [
        {"id": "xss/1", "title": f"Cảnh báo {XSS_TEXT} đảng viên <b>đậm</b>",
         "sapo": f"Tóm tắt {XSS_TEXT} <script>alert(2)</script>",
         "body": f"Đoạn một có đảng viên và {XSS_TEXT} ở giữa.\n\nĐoạn hai: <script>alert(3)</script> & \"ngoặc\" "
                 "'đơn' đảng viên.",
         "date": "2024-05-01", "source": "<i>Nguồn</i>", "author": "<u>Tác giả</u>",
         "url": "javascript:alert(4)"},
        {"id": "plain", "title": "Tin thường", "body": "Một bài bình thường về đảng viên.", "date": "2024-05-02",
         "url": "https://example.org/bai-viet"},
    ])
    summary = index_articles([records], tmp / "ix", workers=1)
    assert summary.indexed == 2
    return tmp / "ix"


@pytest.fixture
def xss_client(xss_index):
    from webui.app import create_app

    return create_app({"INDEX_DIR": str(xss_index), "TESTING": True}).test_client()


def test_the_feed_and_the_csv_keep_markup_as_text(xss_client):
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(xss_client.get("/search.atom?q=%C4%91%E1%BA%A3ng+vi%C3%AAn").data)
    entries = {unquote(e.findtext(atom + "id").split("/article/")[1]): e for e in feed.findall(atom + "entry")}
    assert entries["xss/1"].findtext(atom + "title") == f"Cảnh báo {XSS_TEXT} đảng viên <b>đậm</b>"
    assert entries["xss/1"].find(atom + "author").findtext(atom + "name") == "<i>Nguồn</i>"
    csv = xss_client.get("/search.csv?q=%C4%91%E1%BA%A3ng+vi%C3%AAn").get_data(as_text=True)
    assert f"Cảnh báo {XSS_TEXT} đảng viên <b>đậm</b>" in csv  # a CSV cell is text, never a page


def only_marks(html_fragment):
    """The tags in a fragment that search.snippets produced: must be <mark> and </mark> only."""
    return set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html_fragment)) <= {"mark"}


@pytest.mark.parametrize("url", ["/search?q=", "/api/search?q=", "/article/000_abc709b6f580d3e9?q="])
def test_query_is_shown_as_text(client, url):
    r = client.get(url + quote(XSS_QUERY))
    body = r.get_data(as_text=True)
    assert "<script>alert" not in body
    if r.mimetype == "text/html":
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_query_xss_in_other_parameters_is_text(client):
    r = client.get("/search?q=a&province=" + quote(XSS_QUERY))
    assert r.status_code == 400 and "<script>alert" not in r.get_data(as_text=True)
    r = client.get("/search?q=dang+vien&sort=" + quote('"><script>alert(1)</script>'))
    assert r.status_code == 400 and "<script>alert" not in r.get_data(as_text=True)


def test_article_text_is_shown_as_text_in_results(xss_client):
    r = xss_client.get("/search?q=dang+vien")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'href="/article/xss%2F1?' in html
    assert "<img" not in html and "<script>alert" not in html and "<b>đậm" not in html and "<i>Nguồn" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    for fragment in re.findall(r'<p class="snippet">(.*?)</p>', html, re.S):
        assert only_marks(fragment) and "<mark>" in fragment
    for fragment in re.findall(r'<h2 class="hit-title"[^>]*><a [^>]*>(.*?)</a></h2>', html, re.S):
        assert only_marks(fragment)


def test_article_text_is_shown_as_text_on_the_article_page(xss_client):
    r = xss_client.get("/article/xss/1?q=dang+vien")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<img" not in html and "<script>alert" not in html and "<u>" not in html and "<i>Nguồn" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<mark>đảng viên</mark>" in html
    article = html.split('<div class="article-body">')[1].split("</div>")[0]
    assert only_marks(re.sub(r"</?p>", "", article))
    assert "javascript:" not in html  # a non-http original URL is not linked
    assert 'href="https://example.org/bai-viet"' in xss_client.get("/article/plain").get_data(as_text=True)


def test_api_returns_escaped_snippets(xss_client):
    data = xss_client.get("/api/search?q=dang+vien").get_json()
    hit = next(h for h in data["hits"] if h["id"] == "xss/1")
    assert "<img" not in hit["snippet"] and only_marks(hit["snippet"])
    assert hit["title"].count("<img") == 1  # the plain field is the text itself; the HTML one is escaped
    assert "<img" not in hit["title_html"]


def test_server_error_is_plain_and_vietnamese(app, monkeypatch):
    from search.engine import Engine

    def broken(self, request, **kw):
        raise RuntimeError("/srv/secret/path/index exploded")

    monkeypatch.setattr(Engine, "search", broken)
    client = app.test_client()
    r = client.get("/search?q=dang+vien")
    html = r.get_data(as_text=True)
    assert r.status_code == 500 and "Đã có lỗi xảy ra" in html
    assert "/srv/secret" not in html and "Traceback" not in html and "RuntimeError" not in html
    assert r.headers["Content-Security-Policy"] == CSP
    r = client.get("/api/search?q=dang+vien")
    assert r.status_code == 500 and "/srv/secret" not in r.get_data(as_text=True)


def test_no_inline_scripts_or_styles(client):
    for url in ("/", "/search?q=dang+vien", "/article/000_abc709b6f580d3e9?q=dang", "/nope", "/search?page=0"):
        html = client.get(url).get_data(as_text=True)
        assert "<style" not in html and " style=" not in html
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.parametrize("url", ["/", "/search?q=dang+vien", "/api/search?q=dang+vien",
                                 "/article/000_abc709b6f580d3e9", "/article/nope", "/nope", "/search?q=a&page=0",
                                 "/api/search?page=0", "/static/style.css", "/static/app.js", "/static/nope.css",
                                 "/healthz", "/opensearch.xml", "/search", "/favicon.ico"])
def test_security_headers_on_every_response(client, url):
    r = client.get(url)
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    r.close()


def test_security_headers_on_a_wrong_method(client):
    r = client.post("/search?q=x")
    assert r.status_code == 405 and r.headers["Content-Security-Policy"] == CSP


# ---------------------------------------------------------------- the app


def test_one_engine_per_app_reused(app, client):
    from webui.engine import get_engine

    client.get("/search?q=dang+vien")
    engine = get_engine(app)
    client.get("/search?q=Th%E1%BB%A7+%C4%90%E1%BB%A9c")
    client.get("/api/search?q=x")
    with app.test_request_context("/search?q=x"):
        assert get_engine() is engine


def test_the_app_loads_the_model_queries_use_and_not_pyvis_own(seeds_index):
    """create_app loads the numpy CRF that segments queries (so the first query does not wait for it),
    not pyvi's scikit-learn tokenizer (2.6 s and 128 MB that no query uses)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from webui.app import create_app\n"
        "from index.analysis import segmenter\n"
        f"app = create_app({{'INDEX_DIR': {str(seeds_index)!r}}})\n"
        "print(segmenter._model is not None, 'sklearn' in sys.modules, 'sklearn_crfsuite' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "False", "False"]


def test_autoescape_is_on(app):
    assert app.jinja_env.autoescape("x.html") and app.jinja_env.autoescape("x.xml")


def test_accessibility_landmarks_and_labels(client):
    r = client.get("/search?q=dang+vien")
    p = page(r)
    assert p.find("header") and p.find("main", id="main") and p.find("aside", id="filters")
    assert p.find("nav", **{"aria-label": "Sắp xếp kết quả"})
    assert p.find("form", role="search")[0].get("aria-label")
    assert p.find("label", for_="q") and p.find("label", for_="date-from") and p.find("label", for_="date-to")
    assert p.find("meta", name="viewport")
