"""Facets: counts of the matching articles by place and by date, each value a toggle.

As in Datasette, every facet value carries `value, label, count, selected,
toggle_url`, so the page is stateless (a click is a link to the toggled URL)
and the JSON API and the HTML page share one result object. Counts come from
the facet columns of the matching documents: nothing is scored or highlighted.
"""

import calendar
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from index.analysis.normalize import canonical
from index.locality import gazetteer
from index.store.reading import column_codes
from index.store.schema import NO_VALUE

UNKNOWN = "unknown"  # the value of the bucket of articles with no locality
UNKNOWN_PLACE = "Không rõ địa phương"  # its label
UNDATED = "Không rõ ngày"
TIMELINE_MONTHS = 36  # a longer span is counted by year: more bars than that are too thin to point at


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    toggle_url: str  # None where a value cannot be toggled
    level: int = 0  # depth in a hierarchy: region 0, province 1, district 2

    def as_dict(self):
        return dict(vars(self))


class FacetColumns:
    """Every article's facet values as codes, read once per commit, so a count is a bincount: of the
    articles' combinations of values (a few hundred in an archive: a place and a month), spread to each
    column after, rather than one count over the matching articles a column."""

    def __init__(self, reader, names):
        self.labels = {}
        self.codes = {}
        for name in names:
            values, codes = column_codes(reader, name)
            labels = {}  # an article without a value and one of a segment without the column alike
            relabel = np.array([labels.setdefault(NO_VALUE if v is None else v, len(labels)) for v in values],
                               dtype=np.int32)
            self.labels[name] = list(labels)
            self.codes[name] = relabel[codes]
        combined = np.zeros(reader.doc_count_all(), dtype=np.int64)  # each article's codes, one number
        for name in names:
            combined = combined * len(self.labels[name]) + self.codes[name]  # (exact: 6 columns of < 1,000)
        self._column = {name: column for column, name in enumerate(names)}
        combined, combination = np.unique(combined, return_inverse=True)
        self._combination = combination.astype(np.int32)
        self._combinations = np.zeros((len(combined), len(names)), dtype=np.int64)  # each one's codes, back
        for column, name in reversed(list(enumerate(names))):
            combined, self._combinations[:, column] = np.divmod(combined, len(self.labels[name]))

    def count(self, mask):
        """{column name: Counter of values} over the articles of `mask` (a boolean array), each column's
        counted when first asked."""
        return _Counts(self, np.bincount(self._combination[np.flatnonzero(mask)], minlength=len(self._combinations)))

    def tally(self, name, combinations):
        """The Counter of column `name`'s values among articles counted by combination (`combinations`)."""
        labels = self.labels[name]
        tally = np.bincount(self._combinations[:, self._column[name]], weights=combinations, minlength=len(labels))
        return Counter({labels[i]: int(tally[i]) for i in np.flatnonzero(tally)})

    def having(self, name, values):
        """The articles whose `name` is one of `values`, as a boolean array."""
        values = set(values)
        wanted = [i for i, label in enumerate(self.labels[name]) if label in values]
        return np.isin(self.codes[name], wanted)


class _Counts(Mapping):
    """{column name: Counter of values} of some articles, each column's tallied when first asked: a page
    shows a province's districts only once the province is chosen, and the districts of half an archive
    are hundreds of values."""

    def __init__(self, columns, combinations):
        self._columns, self._combinations, self._tallied = columns, combinations, {}

    def __getitem__(self, name):
        if name not in self._tallied:
            self._tallied[name] = self._columns.tally(name, self._combinations)
        return self._tallied[name]

    def __iter__(self):
        return iter(self._columns.labels)

    def __len__(self):
        return len(self._columns.labels)


def _same(a, b):
    return a is not None and b is not None and canonical(a) == canonical(b)


class RegionFacet:
    """Region -> province -> district, by indentation; the provinces of 2025 filter their old ones."""

    name = "region"
    columns = ("region", "province", "district")

    def __init__(self, request, counts):
        self.request = request
        self.counts = counts

    def _province_selected(self, province):
        return self.request.province is not None and province in gazetteer.old_provinces_of(self.request.province)

    def values(self):
        request, counts = self.request, self.counts
        by_region = {}
        for province, n in counts["province"].items():
            if province != NO_VALUE:
                region = gazetteer.region_of(province)
                by_region.setdefault(region.name if region else NO_VALUE, []).append((province, n))
        districts = {}
        for key, n in counts["district"].items() if request.province or request.district else ():  # else unshown
            if key != NO_VALUE:
                province, _, district = key.partition("|")
                districts.setdefault(province, []).append((district, n))
        values = []
        for region, n in sorted(counts["region"].items(), key=lambda kv: (-kv[1], kv[0])):
            if region == NO_VALUE:
                continue
            selected = _same(request.region, region)
            values.append(FacetValue(region, region, n, selected,
                                     request.url(region=None if selected else region, province=None,
                                                 district=None)))
            for province, pn in sorted(by_region.get(region, []), key=lambda kv: (-kv[1], kv[0])):
                p_selected = self._province_selected(province)
                values.append(FacetValue(province, gazetteer.province_label(province), pn, p_selected,
                                         request.url(province=None if p_selected else province, district=None),
                                         level=1))
                if not (p_selected or request.district):
                    continue
                for district, dn in sorted(districts.get(province, []), key=lambda kv: (-kv[1], kv[0])):
                    d_selected = _same(request.district, district)
                    values.append(FacetValue(district, district, dn, d_selected,
                                             request.url(district=None if d_selected else district), level=2))
        unknown = counts["region"].get(NO_VALUE, 0)
        if unknown:
            selected = request.region == UNKNOWN
            values.append(FacetValue(UNKNOWN, UNKNOWN_PLACE, unknown, selected,
                                     request.url(region=None if selected else UNKNOWN, province=None,
                                                 district=None)))
        return values


def _month_range(year, month):
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


class DateFacet:
    """Years, and the months of a selected year; articles with no date counted apart."""

    name = "date"
    columns = ("year", "month")

    def __init__(self, request, counts):
        self.request = request
        self.counts = counts

    def _selected(self, start, end):
        return self.request.date_from == start and self.request.date_to == end

    def _within_year(self):
        r = self.request
        if r.date_from and r.date_to and r.date_from.year == r.date_to.year:
            return r.date_from.year
        return None

    def values(self):
        request, counts = self.request, self.counts
        values = []
        open_year = self._within_year()
        for year, n in sorted(counts["year"].items(), reverse=True):
            if year == NO_VALUE:
                continue
            start, end = date(int(year), 1, 1), date(int(year), 12, 31)
            selected = self._selected(start, end)
            values.append(FacetValue(year, f"Năm {year}", n, selected,
                                     request.url(date_from=None if selected else start,
                                                 date_to=None if selected else end)))
            if open_year != int(year):
                continue
            for month, mn in sorted(counts["month"].items()):
                if not month.startswith(year):
                    continue
                m_start, m_end = _month_range(int(year), int(month[5:]))
                m_selected = self._selected(m_start, m_end)
                toggle = (request.url(date_from=start, date_to=end) if m_selected
                          else request.url(date_from=m_start, date_to=m_end))
                values.append(FacetValue(month, f"Tháng {int(month[5:])}/{year}", mn, m_selected, toggle, level=1))
        undated = counts["year"].get(NO_VALUE, 0)
        if undated:
            values.append(FacetValue(NO_VALUE, UNDATED, undated, False, None))
        return values


class TimelineFacet:
    """How many matching articles fall in each month (each year, over a long span), every period from the
    first to the last shown, empty ones too, so that a chart of them is a curve; a period's toggle narrows
    the search to it. Undated articles come last, so the counts sum to the total."""

    name = "timeline"
    columns = ("month",)

    def __init__(self, request, counts):
        self.request = request
        self.counts = counts

    def _value(self, value, label, count, start, end):
        selected = self.request.date_from == start and self.request.date_to == end
        toggle = None
        if count:
            toggle = self.request.url(date_from=None if selected else start, date_to=None if selected else end)
        return FacetValue(value, label, count, selected, toggle)

    def values(self):
        months = Counter({m: n for m, n in self.counts["month"].items() if m != NO_VALUE})
        values = []
        if months:
            first, last = min(months), max(months)
            (y0, m0), (y1, m1) = (int(first[:4]), int(first[5:7])), (int(last[:4]), int(last[5:7]))
            if (y1 - y0) * 12 + m1 - m0 + 1 > TIMELINE_MONTHS:
                years = Counter()
                for month, n in months.items():
                    years[int(month[:4])] += n
                for year in range(y0, y1 + 1):
                    values.append(self._value(str(year), f"Năm {year}", years[year], date(year, 1, 1),
                                              date(year, 12, 31)))
            else:
                year, month = y0, m0
                while (year, month) <= (y1, m1):
                    key = f"{year}-{month:02d}"
                    values.append(self._value(key, f"Tháng {month}/{year}", months[key], *_month_range(year, month)))
                    year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        undated = self.counts["month"].get(NO_VALUE, 0)
        if undated:
            values.append(FacetValue(NO_VALUE, UNDATED, undated, False, None))
        return values


FACETS = (RegionFacet, DateFacet, TimelineFacet)
COLUMNS = tuple(dict.fromkeys(c for facet in FACETS for c in facet.columns))  # each read once


def facets(columns, mask, request):
    """{facet name: [FacetValue]} for the matching articles (`mask`), given the reader's FacetColumns."""
    counts = columns.count(mask)
    return {facet.name: facet(request, counts).values() for facet in FACETS}
