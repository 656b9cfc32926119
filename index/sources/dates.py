"""Dates as Vietnamese news sites write them: day first, local time UTC+7.

General-purpose parsers get these wrong (python-dateutil reads "GMT+7" as
-07:00, dateparser reads 07/10/2023 month-first), so the few forms that occur
are recognised here explicitly.
"""

import re
from datetime import date, datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7))

_TIME = r"(?P<h>\d{1,2})[:hg](?P<mi>\d{2})(?::(?P<s>\d{2}))?"
_NUMERIC = r"(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})"
_WORDS = r"ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})(?:\s+năm\s+(?P<y>\d{4}))?"
_ZONE = r"\(?\s*GMT\s*(?P<zs>[+-])\s*(?P<zh>\d{1,2})(?::?(?P<zm>\d{2}))?\s*\)?"

_PATTERNS = [
    re.compile(rf"{_TIME}\s*[,|-]?\s*(?:[^\d\n]{{0,20}})?{_NUMERIC}", re.IGNORECASE),
    re.compile(rf"{_NUMERIC}(?:\s*[,|-]?\s*(?:lúc\s*)?{_TIME})?", re.IGNORECASE),
    re.compile(_WORDS, re.IGNORECASE),
]
_ZONE_RE = re.compile(_ZONE, re.IGNORECASE)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")


class Published:
    """A publication date, with or without a time of day (day precision is common)."""

    __slots__ = ("moment", "has_time")

    def __init__(self, moment, has_time=True):
        self.moment = moment
        self.has_time = has_time

    @property
    def day(self):
        return self.moment.date()

    def isoformat(self):
        """"2023-10-07T08:34:00+07:00", or "2023-10-07" when only the day is known."""
        return self.moment.isoformat() if self.has_time else self.day.isoformat()

    def __eq__(self, other):
        return isinstance(other, Published) and (self.moment, self.has_time) == (other.moment, other.has_time)

    def __repr__(self):
        return f"Published({self.isoformat()})"


def _zone(text):
    m = _ZONE_RE.search(text)
    if not m:
        return VIETNAM
    minutes = int(m["zh"]) * 60 + int(m["zm"] or 0)
    return timezone(timedelta(minutes=minutes if m["zs"] == "+" else -minutes))


def _build(m, text, year=None):
    groups = m.groupdict()
    y = int(groups.get("y") or year or 0)
    if not y:
        return None
    try:
        day = date(y, int(groups["m"]), int(groups["d"]))
    except ValueError:
        return None
    if groups.get("h") is None:
        return Published(datetime(day.year, day.month, day.day, tzinfo=VIETNAM), has_time=False)
    try:
        moment = datetime(day.year, day.month, day.day, int(groups["h"]), int(groups["mi"]),
                          int(groups.get("s") or 0), tzinfo=_zone(text))
    except ValueError:
        return None
    return Published(moment)


def find_date(text):
    """The first day-first date (with its time and zone, if written) in a line of text."""
    for pattern in _PATTERNS:
        m = pattern.search(text)
        if m:
            found = _build(m, text)
            if found:
                return found
    return None


_EVENT = re.compile(
    r"^(?:(?:sáng|trưa|chiều|tối|đêm|rạng sáng)\s+)?(?:(?:hôm\s+)?nay\s*\(|ngày\s+)?"
    r"(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})(?![/.-]?\d)",
    re.IGNORECASE,
)


def event_date(lead, before):
    """The date a lead opens with ("Sáng 7/10, ...") in the year of `before`, not after it.

    Used when the page shows only the site's banner date: the event happened on
    or before the day the page was seen.
    """
    m = _EVENT.match(lead)
    if not m or not before:
        return None
    for year in (before.day.year, before.day.year - 1):
        found = _build(m, lead, year=year)
        if found and found.day <= before.day:
            return found
    return None


def parse_date(value):
    """A record's date field: ISO 8601 (as in JSON data) or a day-first Vietnamese date.

    Returns None when the value holds no date; never invents one.
    """
    if isinstance(value, (int, float)) or not value:
        return None
    value = str(value).strip()
    if _ISO.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        has_time = len(value) > 10
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=VIETNAM)
        return Published(moment, has_time=has_time)
    return find_date(value)
