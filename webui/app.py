"""The search page and its JSON API (Flask + Jinja2), in Vietnamese: the app factory.

Every page state (query, filters, sort, page) lives in the URL, so a page can
be bookmarked, shared, and Back works. Views live in blueprints (`webui.pages`,
`webui.api`, `webui.exports`) and reach the one `Engine` per app through
`webui.engine.get_engine`. Article text and queries are data: Jinja
autoescapes everything, and the only HTML we trust is what `search.snippets`
produced (escaped text with our own <mark>).
"""

from flask import Flask, current_app, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from webui import api, engine, exports, labels, pages
from webui.formatting import FILTERS, article_url
from webui.labels import ERROR_MESSAGES, ERROR_TITLES, OTHER_ERROR_MESSAGE, OTHER_ERROR_TITLE

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(test_config=None):
    """The app factory: `test_config` may set INDEX_DIR (default: $VNSEARCH_INDEX or the user's index), TESTING,
    BASE_URL (the site's public address, for /opensearch.xml and the feed; default: relative to the host)
    and CACHE_MB (posting lists kept decoded; default: as the archive's size asks)."""
    app = Flask(__name__)
    app.config.update(BASE_URL=None)
    if test_config:
        app.config.update(test_config)
    app.json = _HtmlSafeJSON(app)
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(labels=labels, article_url=article_url)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    engine.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(exports.bp)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, server_error)
    app.after_request(security_headers)
    return app


class _HtmlSafeJSON(DefaultJSONProvider):
    """JSON with <, > and & written as \\u escapes: the same data, and never HTML if someone sniffs it."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj, **kwargs):
        text = super().dumps(obj, **kwargs)
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def http_error(e):
    code = e.code or 500
    if request.path.startswith("/api/"):
        return api.error(e.name, status=code)
    return render_template("error.html", code=code, title=ERROR_TITLES.get(code, OTHER_ERROR_TITLE),
                           message=ERROR_MESSAGES.get(code, OTHER_ERROR_MESSAGE)), code


def server_error(e):
    if isinstance(e, HTTPException):
        return http_error(e)
    current_app.logger.exception("unhandled error on %s", request.path)
    if request.path.startswith("/api/"):
        return api.error("internal error", status=500)
    return render_template("error.html", code=500, title=ERROR_TITLES[500], message=ERROR_MESSAGES[500]), 500
