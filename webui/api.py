"""The JSON API: the same result objects the pages show, under /api/."""

from flask import Blueprint, jsonify, request

from search.related import related
from search.request import BadParameter, SearchRequest
from search.suggest import suggester
from webui.engine import IndexUnavailable, get_engine, log_unavailable
from webui.formatting import article_url
from webui.pages import search_params

bp = Blueprint("api", __name__, url_prefix="/api")


def error(message, parameter=None, status=400):
    return jsonify(error={"parameter": parameter, "message": message}), status


UNAVAILABLE = "the search index is not available"


def unavailable():
    log_unavailable()
    return error(UNAVAILABLE, status=503)
ARTICLE_FIELDS = ("id", "title", "lead", "body", "published", "source", "author", "category", "url", "locality")


@bp.get("/search")
def search():
    params = search_params()
    try:
        req = SearchRequest.from_params(params)
        result = get_engine().search(req)
    except BadParameter as e:
        return error(e.message, e.name)
    except IndexUnavailable:
        return unavailable()
    return jsonify(result.as_dict())


@bp.get("/suggest")
def suggest():
    """Words and titles completing `q`, as the search box lists them while one types."""
    q = request.args.get("q", "")
    try:
        found = suggester(get_engine()).suggest(q)
    except IndexUnavailable:
        return unavailable()
    suggestions = [s.as_dict() for s in found]
    for suggestion in suggestions:
        if suggestion["kind"] == "title":
            suggestion["url"] = article_url(suggestion["id"])
    response = jsonify(q=q, suggestions=suggestions)
    response.cache_control.max_age = 60  # typing back and forth asks the same prefixes again
    return response


@bp.get("/article/<path:article_id>")
def article(article_id):
    """The stored article and its related articles, as the article page shows them."""
    try:
        engine = get_engine()
    except IndexUnavailable:
        return unavailable()
    fields = engine.article(article_id)
    if fields is None:
        return error("no article with this id", "article_id", status=404)
    return jsonify(article={name: fields.get(name) for name in ARTICLE_FIELDS},
                   related=[r.as_dict() for r in related(engine, article_id)])
