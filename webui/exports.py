"""Results taken away: an Atom feed of the newest matching articles, and every match as CSV.

Both take every search parameter `/search` takes. The CSV is also what
`vnsearch search --csv` prints, from the same rows.
"""

import csv
import io
import re
from dataclasses import replace
from datetime import datetime, timezone
from html import unescape

from flask import Blueprint, Response, current_app, render_template, request, url_for

from search.request import MAX_LIMIT, BadParameter, SearchRequest
from webui.engine import IndexUnavailable, get_engine
from webui.formatting import article_url
from webui.labels import UNTITLED
from webui.pages import bad_parameter_page, index_unavailable_page, search_params

bp = Blueprint("exports", __name__)

FEED_ENTRIES = 20  # a feed reader asks again: the newest are enough
CSV_CAP = 10_000  # articles in one CSV file: a spreadsheet, not a copy of the archive
CSV_COLUMNS = ("id", "title", "date", "source", "url", "region", "province", "district", "score")
VIETNAM = "+07:00"  # the time zone of an article's date that gives none


def rfc3339(value, default):
    """An article's date as Atom writes it (a date alone is midnight in Vietnam); `default` when it has none."""
    if not value:
        return default
    text = str(value)
    if len(text) == 10:
        text += "T00:00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return default
    return parsed.isoformat() if parsed.tzinfo else parsed.isoformat() + VIETNAM


def snippet_text(html):
    """A snippet as plain text (its marks taken off, its escapes undone): the feed escapes it again."""
    return unescape(re.sub(r"</?mark>", "", html or ""))


@bp.get("/search.atom")
def atom():
    try:
        req = SearchRequest.from_params(search_params())
        result = get_engine().search(replace(req, sort="newest", page=1, limit=FEED_ENTRIES), with_facets=False)
    except BadParameter as e:
        return bad_parameter_page(e, search_params())
    except IndexUnavailable:
        return index_unavailable_page()
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    root = (current_app.config["BASE_URL"] or request.url_root).rstrip("/")  # a feed's links are absolute
    entries = [{
        "id": root + article_url(hit.id),
        "title": hit.title or UNTITLED,
        "updated": rfc3339(hit.date, now),
        "summary": snippet_text(hit.snippet),
        "source": hit.source,
    } for hit in result.hits]
    body = render_template(
        "search_atom.xml", entries=entries, query=result.query,
        self_url=root + url_for("exports.atom") + req.url(), page_url=root + url_for("pages.search") + req.url(),
        updated=entries[0]["updated"] if entries else now,  # the newest article's
    )
    return Response(body, mimetype="application/atom+xml")


def csv_rows(engine, req, cap=CSV_CAP):
    """The CSV text of every article matching `req` (up to `cap`), a line at a time, with a byte-order mark
    first so that spreadsheet programs read it as UTF-8. Raises BadParameter before the first line."""
    first = engine.search(replace(req, page=1, limit=MAX_LIMIT), with_facets=False)  # a bad filter says so now

    def lines():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + out.getvalue()
        result, page, written = first, 1, 0
        while result.hits and written < cap:
            for hit in result.hits[:cap - written]:
                out.seek(0)
                out.truncate()
                place = hit.locality or {}
                writer.writerow((hit.id, hit.title, hit.date or "", hit.source or "", hit.url or "",
                                 place.get("region") or "", place.get("province") or "", place.get("district") or "",
                                 hit.score))
                written += 1
                yield out.getvalue()
            page += 1
            result = engine.search(replace(req, page=page, limit=MAX_LIMIT), with_facets=False)

    return lines()


@bp.get("/search.csv")
def export_csv():
    try:
        req = SearchRequest.from_params(search_params())
        lines = csv_rows(get_engine(), req)
    except BadParameter as e:
        return bad_parameter_page(e, search_params())
    except IndexUnavailable:
        return index_unavailable_page()
    return Response(lines, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="vnsearch.csv"'})
