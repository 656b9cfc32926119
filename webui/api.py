"""The JSON API: the same result objects the pages show, under /api/."""

from flask import Blueprint, jsonify

from index.writer import IndexUnavailable
from search.request import BadParameter, SearchRequest
from webui.engine import get_engine
from webui.pages import search_params

bp = Blueprint("api", __name__, url_prefix="/api")


def error(message, parameter=None, status=400):
    return jsonify(error={"parameter": parameter, "message": message}), status


UNAVAILABLE = "the search index is not available"


@bp.get("/search")
def search():
    params = search_params()
    try:
        req = SearchRequest.from_params(params)
        result = get_engine().search(req)
    except BadParameter as e:
        return error(e.message, e.name)
    except IndexUnavailable:
        return error(UNAVAILABLE, status=503)
    if result.total > 0 and req.page > result.pages:
        result.hits = []  # Whoosh would repeat the last page
    return jsonify(result.as_dict())
