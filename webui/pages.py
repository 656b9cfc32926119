"""The pages a reader sees: home, results, article, and the small files browsers ask for."""

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from search.facets import UNKNOWN
from search.query import parse
from search.related import related
from search.request import PARAMETERS, BadParameter, SearchRequest
from search.snippets import highlight
from search.suggest import suggester
from webui.engine import IndexUnavailable, get_engine, log_unavailable
from webui.formatting import format_date, paragraphs, province_label, safe_external_url, trusted
from webui.labels import (ERROR_MESSAGES, ERROR_TITLES, FILTER_KINDS, SORT_LABELS, UNKNOWN_PLACE, UNTITLED,
                          VI_PARAMETER, vietnamese_message)
from webui.timeline import chart

bp = Blueprint("pages", __name__)

PLACES_SHOWN = 12  # place facet values before «Xem thêm»: the date facet stays in sight below them


def search_params():
    """The search parameters of the current request (known names only, first value of each)."""
    return {name: request.args.get(name) for name in PARAMETERS if request.args.get(name) is not None}


def _without(params, *names):
    """A query string of `params` without `names` (and back to page 1)."""
    kept = [(k, v) for k, v in params.items() if k not in names and k != "page" and v]
    return "?" + urlencode(kept)


def _selected_filters(req):
    """The filters in force, each with a label and the URL that removes it."""
    chips = []
    if req.region:
        label = UNKNOWN_PLACE if req.region == UNKNOWN else req.region
        chips.append((FILTER_KINDS["region"], label, req.url(region=None, province=None, district=None)))
    if req.province:
        chips.append((FILTER_KINDS["province"], province_label(req.province), req.url(province=None, district=None)))
    if req.district:
        chips.append((FILTER_KINDS["district"], req.district, req.url(district=None)))
    if req.date_from or req.date_to:
        if req.date_from and req.date_to:
            label = f"{format_date(req.date_from)} – {format_date(req.date_to)}"
        elif req.date_from:
            label = f"từ {format_date(req.date_from)}"
        else:
            label = f"đến {format_date(req.date_to)}"
        chips.append((FILTER_KINDS["date"], label, req.url(date_from=None, date_to=None)))
    return chips


def page_numbers(current, last, around=2):
    """Page numbers to show: the first, the last, and a few around the current one; None is a gap."""
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    out, previous = [], 0
    for n in shown:
        if n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out


def _places_shown(values):
    """How many place values show before «Xem thêm»: PLACES_SHOWN, or all up to the last one selected
    (a filter in force is never hidden)."""
    selected = [n for n, v in enumerate(values) if v.selected]
    return max([PLACES_SHOWN] + [n + 1 for n in selected])


def index_unavailable_page():
    log_unavailable()
    return render_template("error.html", code=503, title=ERROR_TITLES[503], message=ERROR_MESSAGES[503]), 503


def bad_parameter_page(error, params):
    return render_template(
        "bad_request.html", code=400, title=ERROR_TITLES[400],
        message=vietnamese_message(error, params), parameter=error.name,
        parameter_label=VI_PARAMETER.get(error.name, error.name),
        q=params.get("q", ""), retry_url=_without(params, error.name),
    ), 400


@bp.get("/")
def home():
    try:
        engine = get_engine()
        articles = engine.searcher().doc_count()
        examples = suggester(engine).examples  # what this archive's titles talk about
    except IndexUnavailable:
        articles, examples = None, []
    return render_template("home.html", examples=examples, articles=articles)


@bp.get("/search")
def search():
    params = search_params()
    try:
        req = SearchRequest.from_params(params)
    except BadParameter as e:
        return bad_parameter_page(e, params)
    if not req.q.strip() and not req.filtered:
        return redirect(url_for("pages.home"))
    written = dict(req.params())
    if any((params.get(name) or "").strip() not in ("", written.get(name)) for name in ("from", "to")):
        return redirect(url_for("pages.search") + req.url())  # 30/04/2017 as typed; the URL says 2017-04-30
    try:
        result = get_engine().search(req)
    except BadParameter as e:
        return bad_parameter_page(e, params)
    except IndexUnavailable:
        return index_unavailable_page()
    beyond = result.total > 0 and req.page > result.pages  # the engine gives no hits there
    return render_template(
        "results.html", req=req, result=result, beyond=beyond,
        hits=[(hit, trusted(hit.title_html), trusted(hit.snippet)) for hit in result.hits],
        first=(req.page - 1) * req.limit + 1,
        chips=_selected_filters(req),
        clear_url=req.url(region=None, province=None, district=None, date_from=None, date_to=None),
        sorts=[(value, label, req.url(sort=value)) for value, label in SORT_LABELS],
        pages=page_numbers(req.page, result.pages) if result.total else [],
        article_state=req.url(),
        keep=[(k, v) for k, v in req.params() if k not in ("q", "page")],
        timeline=chart(result.facets.get("timeline", []), url_for("pages.search")),
        places_shown=_places_shown(result.facets.get("region", [])),
        api_url=url_for("api.search") + req.url(),
    )


@bp.get("/article/<path:article_id>")
def article(article_id):
    try:
        engine = get_engine()
    except IndexUnavailable:
        return index_unavailable_page()
    fields = engine.article(article_id)  # looked up in the index only, never on disk
    if fields is None:
        abort(404)
    q = request.args.get("q", "")
    parsed = parse(q)
    exact = request.args.get("exact") == "1"
    text = "\n".join(filter(None, (fields.get("title"), fields.get("lead"), fields.get("body"))))
    highlighter = engine.highlighter(q, exact)  # the search's own marks, loosened as its match was
    if not highlighter.matches(text):
        highlighter = engine.highlighter(q, exact, loose=True)
    marked = lambda text: trusted(highlight(text, highlighter))  # noqa: E731
    back_params = search_params()
    try:
        back = "?" + urlencode(SearchRequest.from_params(back_params).params())
    except BadParameter:
        back = "?" + urlencode({"q": q})
    title_html = marked(fields.get("title") or UNTITLED)
    lead_html = marked(fields["lead"]) if fields.get("lead") else None
    body_html = [(marked(p), caption) for p, caption in paragraphs(fields.get("body"))]
    shown = [title_html, lead_html or ""] + [p for p, _ in body_html]
    return render_template(
        "article.html", a=fields, q=parsed.text, title_html=title_html, lead_html=lead_html, body_html=body_html,
        marked_count=sum(html.count("<mark>") for html in shown),  # the marks the reader sees, counted
        back_url=url_for("pages.search") + back if parsed.text or back != "?" else None,
        original_url=safe_external_url(fields.get("url")),
        locality=fields.get("locality"),
        related=related(engine, article_id),
        api_url=url_for("api.article", article_id=article_id),
    )


@bp.get("/opensearch.xml")
def opensearch():
    # never the request's Host header: anyone can send one, and a cache would serve it to others
    root = (current_app.config["BASE_URL"] or request.script_root).rstrip("/") + "/"
    body = render_template("opensearch.xml", root=root)
    return current_app.response_class(body, mimetype="application/opensearchdescription+xml")


@bp.get("/healthz")
def healthz():
    try:
        articles = get_engine().searcher().doc_count()
    except IndexUnavailable:
        log_unavailable()
        return jsonify(status="unavailable", articles=0), 503
    return jsonify(status="ok", articles=articles)


@bp.get("/favicon.ico")
def favicon():
    return current_app.send_static_file("favicon.svg")
