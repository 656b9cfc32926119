"""The search page and its JSON API (Flask + Jinja2), in Vietnamese.

Every page state (query, filters, sort, page) lives in the URL, so a page can
be bookmarked, shared, and Back works. One `Engine` per app (per process) is
opened on the first request that needs it and reused. Article text and queries
are data: Jinja autoescapes everything, and the only HTML we trust is what
`search.snippets` produced (escaped text with our own <mark>).
"""

import re
import sys
import threading
from datetime import date, datetime
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from index.locality import gazetteer
from index.store.directory import IndexUnavailable, default_index_dir
from search.facets import UNKNOWN
from search.query import parse
from search.request import PARAMETERS, BadParameter, SearchRequest
from search.snippets import Highlighter, highlight

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

EXAMPLES = ("đảng viên", "dang vien", "Thủ Đức", '"Nghị quyết Trung ương 4"')

SORT_LABELS = (("relevance", "Liên quan nhất"), ("newest", "Mới nhất"), ("oldest", "Cũ nhất"))

FILTER_PARAMETERS = ("region", "province", "district", "from", "to")

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không được phép",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    413: "Yêu cầu quá lớn",
    500: "Đã có lỗi xảy ra",
    503: "Dịch vụ tạm thời không sẵn sàng",
}

ERROR_MESSAGES = {
    404: "Trang bạn tìm không tồn tại hoặc đã được chuyển đi.",
    405: "Trang này không nhận yêu cầu theo cách đó.",
    500: "Máy chủ gặp sự cố khi xử lý yêu cầu. Xin thử lại sau ít phút.",
    503: ("Chỉ mục tìm kiếm chưa sẵn sàng. Người quản trị cần chạy lệnh «vnsearch index» "
          "(hoặc «vnsearch index --rebuild» nếu máy chủ báo chỉ mục bị hỏng)."),
}


def create_app(config=None):
    """The app factory: `config` may set INDEX_DIR (default: $VNSEARCH_INDEX or the user's index), TESTING,
    and BASE_URL (the site's public address, for /opensearch.xml; default: addresses relative to the host)."""
    app = Flask(__name__)
    app.config.update(INDEX_DIR=None, BASE_URL=None)
    if config:
        app.config.update(config)
    if not app.config["INDEX_DIR"]:
        app.config["INDEX_DIR"] = str(default_index_dir())
    app.json = _HtmlSafeJSON(app)

    # pyvi's model takes about a second to load: do it now, not on the first query
    from index.analysis.segmenter import pyvi

    pyvi()

    holder = _EngineHolder(app.config["INDEX_DIR"])
    app.extensions["vnsearch"] = holder

    _register_filters(app)
    _register_routes(app, holder)
    _register_errors(app)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response

    return app


class _HtmlSafeJSON(DefaultJSONProvider):
    """JSON with <, > and & written as \\u escapes: the same data, and never HTML if someone sniffs it."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj, **kwargs):
        text = super().dumps(obj, **kwargs)
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class _EngineHolder:
    """One Engine per app, opened lazily; a missing index is retried on the next request."""

    def __init__(self, index_dir):
        self.index_dir = index_dir
        self._engine = None
        self._lock = threading.Lock()

    def get(self):
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from search.engine import Engine

                    self._engine = Engine(self.index_dir)
        return self._engine


def warm(app):
    """Open the index and read its commit ahead, so that the first visitor does not wait for it."""
    try:
        app.extensions["vnsearch"].get().warm()
    except IndexUnavailable:
        pass  # pages say so, and the next request tries again


# ---------------------------------------------------------------- formatting


def _parse_date(value):
    if not value:
        return None
    if isinstance(value, (date, datetime)):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None


def format_date(value):
    """dd/mm/yyyy, or "" when there is no date."""
    d = _parse_date(value)
    return d.strftime("%d/%m/%Y") if d else ""


def format_datetime(value):
    """dd/mm/yyyy, with the time (HH:MM) when the article has one."""
    d = _parse_date(value)
    if not d:
        return ""
    if isinstance(d, datetime) and "T" in str(value):
        return d.strftime("%H:%M, %d/%m/%Y")
    return d.strftime("%d/%m/%Y")


def format_number(n):
    """Vietnamese digit grouping: 24317 -> 24.317."""
    return f"{int(n):,}".replace(",", ".")


def format_ms(ms):
    if ms < 1000:
        return f"{ms:.0f} ms".replace(".", ",")
    return f"{ms / 1000:.2f} giây".replace(".", ",")


def _register_filters(app):
    app.jinja_env.filters.update(date=format_date, datetime=format_datetime, number=format_number, ms=format_ms,
                                 province_label=province_label)
    app.jinja_env.globals.update(article_url=article_url)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def province_label(name):
    try:
        return gazetteer.province_label(name)
    except Exception:  # a label is never worth an error page
        return name


def article_url(article_id):
    """The article's page, its id percent-encoded whole ("/" and all): a browser would resolve the dot
    segments of `a/b/../c` to another page; the server decodes the id back before routing."""
    return f"{request.script_root}/article/{quote(article_id, safe='')}"


def trusted(html):
    """HTML produced by search.snippets (every piece of text escaped, only our <mark> added)."""
    return Markup(html or "")


def paragraphs(text):
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def safe_external_url(url):
    """The article's original address, only when it is a plain http(s) URL."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


# ---------------------------------------------------------------- request helpers


def _params():
    """The search parameters of the current request (known names only, first value of each)."""
    return {name: request.args.get(name) for name in PARAMETERS if request.args.get(name) is not None}


VI_PARAMETER = {
    "q": "từ khóa",
    "region": "vùng",
    "province": "tỉnh/thành phố",
    "district": "quận/huyện",
    "from": "ngày bắt đầu",
    "to": "ngày kết thúc",
    "sort": "cách sắp xếp",
    "page": "số trang",
    "limit": "số kết quả mỗi trang",
}


def vietnamese_message(error, params):
    """A plain Vietnamese sentence for a BadParameter."""
    name = error.name
    value = params.get(name, "")
    if name == "page":
        return f"Số trang «{value}» không hợp lệ: số trang phải là số nguyên từ 1 đến 1000."
    if name == "limit":
        return f"Số kết quả mỗi trang «{value}» không hợp lệ: phải là số nguyên từ 1 đến 100."
    if name == "sort":
        return f"Cách sắp xếp «{value}» không hợp lệ: chọn relevance (liên quan), newest (mới nhất) hoặc oldest (cũ nhất)."
    if name == "to" and "before" in error.message:
        return (f"Ngày kết thúc ({params.get('to', '')}) đứng trước ngày bắt đầu ({params.get('from', '')}): "
                "hãy chọn lại khoảng thời gian.")
    if name in ("from", "to"):
        return f"{VI_PARAMETER[name].capitalize()} «{value}» không phải là một ngày: dùng dạng YYYY-MM-DD hoặc DD/MM/YYYY."
    if name == "region":
        return f"Không có vùng nào tên «{value}»."
    if name == "province":
        return f"Không có tỉnh/thành phố nào tên «{value}»."
    if name == "district":
        return f"Không có quận/huyện nào tên «{value}»."
    return f"Giá trị «{value}» của {VI_PARAMETER.get(name, name)} không hợp lệ."


def _without(params, *names):
    """A query string of `params` without `names` (and back to page 1)."""
    kept = [(k, v) for k, v in params.items() if k not in names and k != "page" and v]
    return "?" + urlencode(kept)


def _selected_filters(req):
    """The filters in force, each with a label and the URL that removes it."""
    chips = []
    if req.region:
        label = "Không rõ địa phương" if req.region == UNKNOWN else req.region
        chips.append(("Vùng", label, req.url(region=None, province=None, district=None)))
    if req.province:
        chips.append(("Tỉnh/thành", province_label(req.province), req.url(province=None, district=None)))
    if req.district:
        chips.append(("Quận/huyện", req.district, req.url(district=None)))
    if req.date_from or req.date_to:
        if req.date_from and req.date_to:
            label = f"{format_date(req.date_from)} – {format_date(req.date_to)}"
        elif req.date_from:
            label = f"từ {format_date(req.date_from)}"
        else:
            label = f"đến {format_date(req.date_to)}"
        chips.append(("Thời gian", label, req.url(date_from=None, date_to=None)))
    return chips


def _page_numbers(current, last, around=2):
    """Page numbers to show: the first, the last, and a few around the current one; None is a gap."""
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    out, previous = [], 0
    for n in shown:
        if n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out


_LOGGED = set()  # why the index was unavailable, each said once in the server's log


def _log_unavailable():
    """Say in the server's log why the index is unavailable (which file is damaged): pages show no paths."""
    message = str(sys.exc_info()[1])
    if message not in _LOGGED:
        _LOGGED.add(message)
        current_app.logger.error("%s", message)


def _index_unavailable_page():
    _log_unavailable()
    return render_template("error.html", code=503, title=ERROR_TITLES[503], message=ERROR_MESSAGES[503]), 503


# ---------------------------------------------------------------- routes


def _register_routes(app, holder):
    @app.get("/")
    def home():
        try:
            articles = holder.get().searcher().doc_count()
        except IndexUnavailable:
            articles = None
        return render_template("home.html", examples=EXAMPLES, articles=articles)

    @app.get("/search")
    def search():
        params = _params()
        try:
            req = SearchRequest.from_params(params)
        except BadParameter as e:
            return _bad_parameter_page(e, params)
        if not req.q.strip() and not req.filtered:
            return redirect(url_for("home"))
        try:
            engine = holder.get()
            result = engine.search(req)
        except BadParameter as e:
            return _bad_parameter_page(e, params)
        except IndexUnavailable:
            return _index_unavailable_page()
        beyond = result.total > 0 and req.page > result.pages
        if beyond:
            result.hits = []
        return render_template(
            "results.html", req=req, result=result, beyond=beyond,
            hits=[(hit, trusted(hit.title_html), trusted(hit.snippet)) for hit in result.hits],
            first=(req.page - 1) * req.limit + 1,
            chips=_selected_filters(req),
            clear_url=req.url(region=None, province=None, district=None, date_from=None, date_to=None),
            sorts=[(value, label, req.url(sort=value)) for value, label in SORT_LABELS],
            pages=_page_numbers(req.page, result.pages) if result.total else [],
            article_state=req.url(),
            keep=[(k, v) for k, v in req.params() if k not in ("q", "page")],
        )

    def _bad_parameter_page(error, params):
        return render_template(
            "bad_request.html", code=400, title=ERROR_TITLES[400],
            message=vietnamese_message(error, params), parameter=error.name,
            parameter_label=VI_PARAMETER.get(error.name, error.name),
            q=params.get("q", ""), retry_url=_without(params, error.name),
        ), 400

    @app.get("/api/search")
    def api_search():
        params = _params()
        try:
            req = SearchRequest.from_params(params)
            result = holder.get().search(req)
        except BadParameter as e:
            return jsonify(error={"parameter": e.name, "message": e.message}), 400
        except IndexUnavailable:
            _log_unavailable()
            return jsonify(error={"parameter": None, "message": "the search index is not available"}), 503
        if result.total > 0 and req.page > result.pages:
            result.hits = []  # Whoosh would repeat the last page
        return jsonify(result.as_dict())

    @app.get("/article/<path:article_id>")
    def article(article_id):
        try:
            engine = holder.get()
        except IndexUnavailable:
            return _index_unavailable_page()
        fields = engine.article(article_id)  # looked up in the index only, never on disk
        if fields is None:
            abort(404)
        q = request.args.get("q", "")
        parsed = parse(q)
        highlighter = Highlighter.for_syllables(parsed.words + [s for p in parsed.phrases for s in p])
        marked = lambda text: trusted(highlight(text, highlighter))  # noqa: E731
        back_params = _params()
        try:
            back = "?" + urlencode(SearchRequest.from_params(back_params).params())
        except BadParameter:
            back = "?" + urlencode({"q": q})
        locality = fields.get("locality")
        return render_template(
            "article.html", a=fields, q=parsed.text, marked_count=len(highlighter.matches(
                "\n".join(filter(None, (fields.get("title"), fields.get("lead"), fields.get("body")))))
            ) if highlighter else 0,
            title_html=marked(fields.get("title") or "Bài không có tiêu đề"),
            lead_html=marked(fields["lead"]) if fields.get("lead") else None,
            body_html=[marked(p) for p in paragraphs(fields.get("body"))],
            back_url=url_for("search") + back if parsed.text or back != "?" else None,
            original_url=safe_external_url(fields.get("url")),
            locality=locality,
        )

    @app.get("/opensearch.xml")
    def opensearch():
        # never the request's Host header: anyone can send one, and a cache would serve it to others
        root = (app.config["BASE_URL"] or request.script_root).rstrip("/") + "/"
        body = render_template("opensearch.xml", root=root)
        return app.response_class(body, mimetype="application/opensearchdescription+xml")

    @app.get("/healthz")
    def healthz():
        try:
            articles = holder.get().searcher().doc_count()
        except IndexUnavailable:
            _log_unavailable()
            return jsonify(status="unavailable", articles=0), 503
        return jsonify(status="ok", articles=articles)

    @app.get("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.svg")


def _register_errors(app):
    @app.errorhandler(HTTPException)
    def http_error(e):
        code = e.code or 500
        if request.path.startswith("/api/"):
            return jsonify(error={"parameter": None, "message": e.name}), code
        return render_template("error.html", code=code, title=ERROR_TITLES.get(code, "Có lỗi xảy ra"),
                               message=ERROR_MESSAGES.get(code, "Không thể xử lý yêu cầu này.")), code

    @app.errorhandler(Exception)
    def server_error(e):
        if isinstance(e, HTTPException):
            return http_error(e)
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return jsonify(error={"parameter": None, "message": "internal error"}), 500
        return render_template("error.html", code=500, title=ERROR_TITLES[500], message=ERROR_MESSAGES[500]), 500
