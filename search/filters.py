"""Filters by place and date: which articles a request allows, as a boolean array.

Read from the commit's columns (see `search.facets.FacetColumns`), never by
running a query, so filtering costs the same whatever the filter.
"""

from datetime import datetime, time as day_time

from index.locality import gazetteer
from index.store.reading import date_number, date_numbers
from index.store.schema import NO_VALUE
from search.facets import UNKNOWN
from search.request import BadParameter


class Dates:
    """Every article's date as a number (`index.store.reading.date_number`), and whether it has one."""

    def __init__(self, reader, columns):
        self.values = date_numbers(reader, "date")
        self.dated = ~columns.having("year", [NO_VALUE])

    def between(self, start, end):
        mask = self.dated.copy()
        if start is not None:
            mask &= self.values >= date_number(datetime.combine(start, day_time.min))
        if end is not None:
            mask &= self.values <= date_number(datetime.combine(end, day_time.max))
        return mask


def allowed(request, columns, dates):
    """The articles `request`'s filters let through (None when it has none); BadParameter names an
    unknown place."""
    mask = None

    def narrow(found):
        nonlocal mask
        mask = found if mask is None else mask & found

    if request.region:
        if request.region == UNKNOWN:
            narrow(columns.having("region", [NO_VALUE]))
        else:
            region = gazetteer.find_region(request.region)
            if region is None:
                raise BadParameter("region", f"unknown region {request.region!r}")
            narrow(columns.having("region", [region.name]))
    if request.province:
        provinces = gazetteer.old_provinces_of(request.province)
        if not provinces:
            raise BadParameter("province", f"unknown province {request.province!r}")
        narrow(columns.having("province", provinces))
    if request.district:
        districts = gazetteer.districts_named(request.district, request.province)
        if not districts:
            raise BadParameter("district", f"unknown district {request.district!r}")
        narrow(columns.having("district", [f"{d.province.name}|{d.name}" for d in districts]))
    if request.date_from or request.date_to:
        narrow(dates.between(request.date_from, request.date_to))
    return mask
