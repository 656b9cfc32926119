"""How the pages write dates, numbers, durations, places and article text (Jinja filters and helpers)."""

import re
from datetime import date, datetime
from urllib.parse import quote, urlsplit

from flask import request
from markupsafe import Markup

from index.locality import gazetteer


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
    if ms < 1:  # answered from recent results: "0 ms" would read as not measured
        return "dưới 1 ms"
    if ms < 1000:
        return f"{ms:.0f} ms".replace(".", ",")
    return f"{ms / 1000:.2f} giây".replace(".", ",")


def province_label(name):
    try:
        return gazetteer.province_label(name)
    except Exception:  # a label is never worth an error page
        return name


def article_url(article_id):
    """The article's page, its id percent-encoded whole ("/" and all): a browser would resolve the dot
    segments of `a/b/../c` to another page; the server decodes the id back before routing."""
    return f"{request.script_root}/article/{quote(article_id, safe='')}"


FILTERS = {"date": format_date, "datetime": format_datetime, "number": format_number, "ms": format_ms,
           "province_label": province_label}


def trusted(html):
    """HTML produced by search.snippets (every piece of text escaped, only our <mark> added)."""
    return Markup(html or "")


# A photo's caption as news sites leave it in the text: "... (Ảnh: Minh Anh)." or "(Ảnh minh họa)"
_CAPTION = re.compile(r"^(?:Ảnh|Ảnh minh họa|Nguồn ảnh)\s*:|\((?:Ảnh|Nguồn ảnh|Ảnh minh họa)\b[^()]*\)\.?$", re.I)


def paragraphs(text):
    """[(paragraph, whether it is a photo caption)]: every line is a paragraph (feeds often separate
    them with a single newline), and a caption is told apart so that it does not run into the text."""
    return [(line.strip(), bool(_CAPTION.search(line.strip()))) for line in (text or "").splitlines() if line.strip()]


def safe_external_url(url):
    """The article's original address, only when it is a plain http(s) URL."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
