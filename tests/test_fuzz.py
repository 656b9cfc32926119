"""Fuzzing (issue 7): no query, however odd, raises or gives a server error; no article text becomes markup.

Queries are arbitrary Unicode (controls, NUL, lone surrogates, combining marks, unbalanced quotes and
parentheses, operators alone, 10,000 characters) run through `Engine.search` and through the Flask app.
Articles and queries full of markup and entity tricks are indexed into a temporary index: the snippets,
titles and pages must hold no markup but our own `<mark>`, and the text inside a snippet must be the
article's own text.
"""

import json
import re
from pathlib import Path
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.writer import index_articles
from search.query import MAX_QUERY_CHARS
from search.request import SearchRequest
from tests.conftest import client_of, index_of, write_jsonl

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
FEW = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))

# ---------------------------------------------------------------- strategies

TRICKY = [
    '"', '""', '"""', "(", ")", "((", "))", "-", "--", "- -", "-\"", "+", "*", "?", "~", "^", ":", "\\", "/",
    "AND", "OR", "NOT", "and", "or", "title:", "text:", "id:*", "[a TO z]", "{", "}", "'", "`", "|", "&&", "!",
    "\x00", "\x01", "\x1b", "\x7f", "\x85", "\t", "\n", "\r", "\u200b", "\u200d", "\u2028", "\ufeff", "\ufffe",
    "\ud800", "\udfff", "\ud83d", "\U0001f600", "\u0301", "\u0300\u0301\u0303\u0309\u0323", "a\u0301\u0301\u0301",
    "đảng viên", "dang vien", "Hà Nội", "hoà", "thuỷ", "Nghị quyết", "TP.HCM", "TP HCM", "-loại trừ",
    "<script>", "&lt;", "&#x3C;", "%00", "%", "..", "../../etc/passwd", "ǅ", "ﬁ", "İ", "ß", "\u0130", "Ⅻ",
    "١٢٣", "１２３", "\U000e0001", "\U0010ffff",
]

any_char = st.one_of(
    st.characters(exclude_categories=()),  # everything Unicode has, controls and NUL included
    st.characters(categories=("Cs",)),  # lone surrogates, which the default alphabet leaves out
    st.characters(categories=("Mn", "Me", "Mc")),  # combining marks, alone or stacked
    st.sampled_from('"()-*?:\\ \x00'),
)
fragments = st.one_of(st.sampled_from(TRICKY), st.text(any_char, max_size=12))
queries = st.one_of(
    st.text(any_char, max_size=80),
    st.lists(fragments, max_size=12).map(" ".join),
    st.lists(fragments, max_size=12).map("".join),
    # long queries: a fragment repeated up to and past 10,000 characters
    st.tuples(fragments.filter(bool), st.integers(50, 10_000)).map(lambda t: (t[0] * t[1])[:10_000]),
)
raw_bytes = st.binary(max_size=200)  # what a client may put in a URL, percent-encoded, not even UTF-8

LONG = "đảng viên " * 1000  # 10,000 characters


def _is_server_error_free(response):
    return response.status_code in (200, 400)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def module_engine(seeds_index):
    from search.engine import Engine

    with Engine(seeds_index) as engine:
        yield engine


# ---------------------------------------------------------------- queries through the engine


@FUZZ
@given(q=queries)
@example(q=LONG)
@example(q="\x00" * 10_000)
@example(q="\ud800" * 300)
@example(q='"' * 10_000)
@example(q="(" * 5000 + ")" * 4999)
@example(q="-" * 10_000)
@example(q="\u0301" * 10_000)
@example(q="a" * 10_000)
@example(q="AND OR NOT")
def test_engine_search_never_raises(module_engine, q):
    for sort in ("relevance", "newest")[:1 if len(q) > 100 else 2]:
        result = module_engine.search(SearchRequest(q=q, sort=sort))
        assert len(result.hits) == min(result.total, result.limit)  # the first page of what was found
        assert len(result.query) <= MAX_QUERY_CHARS
        json.dumps(result.as_dict(), ensure_ascii=False).encode("utf-8")  # the API can always serialise it


printable = st.text(st.characters(categories=("L", "M", "N", "P", "S")), min_size=1, max_size=12)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(words=st.lists(printable, min_size=1, max_size=20), repeat=st.integers(1, 2000))
@example(words=["đảng", "viên"], repeat=1000)
@example(words=["a" * 10_000], repeat=1)
def test_an_over_long_query_is_cut_with_a_notice(module_engine, words, repeat):
    q = (" ".join(words) + " ") * repeat
    if len(q.strip()) <= MAX_QUERY_CHARS:
        q = q.strip() + " x" * MAX_QUERY_CHARS
    result = module_engine.search(SearchRequest(q=q))
    assert len(result.query) <= MAX_QUERY_CHARS
    assert any("quá dài" in notice for notice in result.notices), result.notices


def test_long_query_still_finds_with_its_first_words(module_engine):
    result = module_engine.search(SearchRequest(q=LONG))
    assert result.notices and result.query.startswith("đảng viên")


# ---------------------------------------------------------------- queries through the web app


@FUZZ
@given(q=queries, path=st.sampled_from(["/search", "/api/search"]))
@example(q=LONG, path="/search")
@example(q=LONG, path="/api/search")
@example(q="\ud800", path="/api/search")
def test_web_search_never_gives_a_server_error(client, q, path):
    encoded = quote(q.encode("utf-8", "surrogatepass"), safe="")
    response = client.get(f"{path}?q={encoded}")
    assert response.status_code in (200, 302), (response.status_code, response.data[:300])
    if path == "/api/search" and response.status_code == 200:
        body = response.get_json()
        assert len(body["query"]) <= MAX_QUERY_CHARS
        if len(" ".join(q.split())) > MAX_QUERY_CHARS + 50 and body["query"]:
            assert body["notices"]


@FUZZ
@given(raw=raw_bytes, path=st.sampled_from(["/search", "/api/search"]),
       name=st.sampled_from(["q", "page", "limit", "sort", "from", "to", "region", "province", "district"]))
def test_any_bytes_in_any_parameter_give_200_or_400(client, raw, path, name):
    extra = "" if name == "q" else "&q=%C4%91%E1%BA%A3ng"
    response = client.get(f"{path}?{name}={quote(raw, safe='')}{extra}")
    assert response.status_code in (200, 302, 400), (name, raw, response.status_code, response.data[:300])


@FUZZ
@given(params=st.dictionaries(
    st.sampled_from(["q", "page", "limit", "sort", "from", "to", "region", "province", "district"]),
    st.one_of(st.sampled_from(TRICKY), st.text(any_char, max_size=20),
              st.integers(-10**12, 10**12).map(str),
              st.sampled_from(["Hà Nội", "Đồng bằng sông Hồng", "Thủ Đức", "newest", "2017-01-01",
                               "31/12/2017", "1000", "100", "0", "1e3", " 7 ", "١", "0x10"])),
    max_size=6))
def test_any_combination_of_parameters_gives_200_or_400(client, params):
    query = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in params.items())
    for path in ("/search", "/api/search"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 302, 400), (path, params, response.status_code, response.data[:300])


# ---------------------------------------------------------------- markup and entity tricks

ATTACKS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&lt;script&gt;", "&#x3C;script&#x3E;",
    "&#60;b&#62;", '"><svg/onload=alert(1)>', "</mark><script>alert(2)</script>", "<mark>giả</mark>",
    "'-alert(1)-'", "<!-- chú thích -->", "<![CDATA[x]]>", "<?xml version='1.0'?>", "<a href=javascript:x>",
    "&amp;amp;", "&", "<", ">", "&#0;", "<<script>>", "<scr<script>ipt>", "<style>*{}</style>", "\u2028<b>",
    "<iframe src=//evil>", "<math><mi xlink:href=x>", "</textarea><script>", "{{7*7}}", "{% raw %}",
]
WORDS = ["đảng", "viên", "Hà", "Nội", "nông", "dân", "lúa", "gạo", "biển", "đảo", "hoà", "bình", "kinh", "tế",
         "mark", "script", "img", "lt", "amp", "onerror", "alert", "svg", "onload", "x3C", "60"]
piece = st.one_of(st.sampled_from(ATTACKS), st.sampled_from(WORDS), st.sampled_from([" ", "\n", "\n\n", ". "]))
marked_text = st.lists(piece, min_size=1, max_size=40).map(" ".join)

FIXED_ARTICLES = [
    {"id": "xss-1", "title": "<script>alert('tiêu đề')</script> đảng viên",
     "sapo": "Nông dân <img src=x onerror=alert(1)> thu hoạch lúa.",
     "body": 'Đảng viên "><svg/onload=alert(1)> họp chi bộ. &lt;b&gt;không đậm&lt;/b&gt; và &#x3C;i&#x3E; '
             "vẫn là chữ. </mark><script>alert(2)</script> Hà Nội hoà bình."},
    {"id": "xss-2", "title": "</mark><mark>đảng</mark> &amp; viên",
     "body": "<mark>đảng viên</mark> giả <b>đậm</b> <a href='javascript:alert(1)'>liên kết</a> script img onerror."},
    {"id": "xss-3", "title": "&#x3C;script&#x3E; &#60;svg onload=x&#62;", "url": "javascript:alert(document.cookie)",
     "body": "mark lt amp x3C 60 " * 20 + "<style>body{}</style> đảng viên lúa gạo."},
    {"id": "<script>alert(9)</script>", "title": "Bài có mã trong id", "body": "đảng viên họp chi bộ."},
]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.other = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self.tags.append(("/" + tag, {}))

    def handle_comment(self, data):
        self.other.append(("comment", data))

    def handle_decl(self, decl):
        self.other.append(("decl", decl))

    def handle_pi(self, data):
        self.other.append(("pi", data))

    def unknown_decl(self, data):
        self.other.append(("unknown", data))


def tags_of(html):
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_only_marks(html):
    parsed = tags_of(html)
    assert all(tag in ("mark", "/mark") and not attrs for tag, attrs in parsed.tags), (html, parsed.tags)
    assert not parsed.other, (html, parsed.other)
    assert html.count("<mark>") == html.count("</mark>")
    # the only '<' in the html are our own marks: everything else was escaped
    assert "<" not in re.sub(r"</?mark>", "", html) and ">" not in re.sub(r"</?mark>", "", html)


def plain(html):
    """The text a snippet shows: without our marks, entities decoded, without the ellipses we add."""
    text = unescape(re.sub(r"</?mark>", "", html))
    if text.startswith("… "):
        text = text[2:]
    if text.endswith(" …"):
        text = text[:-2]
    return text


def assert_hit_is_safe(hit, stored):
    assert_only_marks(hit["snippet"])
    assert_only_marks(hit["title_html"])
    assert plain(hit["title_html"]) == (stored.get("title") or "")
    text = "\n\n".join(p for p in (stored.get("lead"), stored.get("body")) if p).replace("\n", " ")
    assert plain(hit["snippet"]) in text, (hit["snippet"], text)


TEMPLATES = Path(__file__).resolve().parent.parent / "webui" / "templates"
OUR_TAGS = {tag.lower() for page in TEMPLATES.glob("*.html") for tag in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)",
                                                                                   page.read_text("utf-8"))}


def assert_page_is_safe(html):
    """Only the tags our templates write (and our <mark>), no event handlers, no script but our static file."""
    parsed = tags_of(html)
    scripts = 0
    for tag, attrs in parsed.tags:
        name = tag.lstrip("/")
        assert name in OUR_TAGS | {"mark"}, (tag, attrs)
        assert not any(attr.startswith("on") for attr in attrs), (tag, attrs)
        for attr in ("href", "src", "action", "xlink:href", "formaction"):
            assert not (attrs.get(attr) or "").strip().lower().startswith(("javascript:", "data:text")), (tag, attrs)
        if tag == "script":
            scripts += 1
            assert (attrs.get("src") or "").startswith("/static/"), attrs  # our own file only, never inline
    assert scripts <= 1
    assert not [other for other in parsed.other if other[0] != "decl"], parsed.other  # only <!doctype html>


@pytest.fixture(scope="module")
def markup_index(tmp_path_factory):
    return index_of(tmp_path_factory.mktemp("markup"), FIXED_ARTICLES)


@pytest.fixture(scope="module")
def markup_client(markup_index):
    return client_of(markup_index)


def _stored(client, article_id):
    from search.engine import Engine

    with Engine(client.application.config["INDEX_DIR"]) as engine:
        return engine.article(article_id)


@FUZZ
@given(q=st.one_of(marked_text, st.lists(st.sampled_from(WORDS + ATTACKS), min_size=1, max_size=4).map(" ".join)))
@example(q="đảng viên")
@example(q="</mark><script>alert(2)</script> đảng")
@example(q="mark")
@example(q="lt amp")
@example(q='"><svg/onload=alert(1)> lúa')
def test_markup_queries_on_markup_articles_give_only_our_marks(markup_client, q):
    response = markup_client.get("/api/search", query_string={"q": q, "limit": 100})
    assert response.status_code == 200
    for hit in response.get_json()["hits"]:
        assert_hit_is_safe(hit, _stored(markup_client, hit["id"]))
    page = markup_client.get("/search", query_string={"q": q})
    assert page.status_code in (200, 302)
    assert_page_is_safe(page.get_data(as_text=True))


def test_fixed_attack_articles_show_as_text_on_their_own_pages(markup_client):
    for record in FIXED_ARTICLES:
        response = markup_client.get("/article/" + quote(record["id"], safe=""), query_string={"q": "đảng script"})
        assert response.status_code == 200, record["id"]
        html = response.get_data(as_text=True)
        assert_page_is_safe(html)
        for tag, attrs in tags_of(html).tags:
            assert not (attrs.get("href") or "").lower().startswith("javascript")


@FEW
@given(title=marked_text, lead=marked_text, body=marked_text, q=marked_text)
@example(title="</mark><script>alert(1)</script>", lead="&#x3C;script&#x3E;", body="đảng viên <img onerror=x>",
         q="đảng mark script")
def test_any_markup_article_indexed_and_searched_stays_text(tmp_path_factory, title, lead, body, q):
    from search.engine import Engine

    folder = tmp_path_factory.mktemp("one")
    records = write_jsonl(folder / "a.jsonl", [{"id": "a", "title": title, "sapo": lead, "body": body}])
    index_articles([records], folder / "ix", workers=1)
    words = [w for w in q.split() if w.isalpha()]
    with Engine(folder / "ix") as engine:
        stored = engine.article("a")
        for query in {q, " ".join(words[:3]), title.split()[0] if title.split() else "a"}:
            result = engine.search(SearchRequest(q=query))
            for hit in result.as_dict()["hits"]:
                assert_hit_is_safe(hit, stored)
