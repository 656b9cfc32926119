"""The results page's timeline: the timeline facet drawn as an SVG bar chart on the server.

No script and no outside asset: each bar is an SVG link to the narrowed search,
with its count in `data-count` and a <title> that screen readers and hovering
show. Heights are relative to the busiest period, so the shape is the news's.
"""

from dataclasses import dataclass

from search.facets import NO_VALUE  # the value of undated articles

WIDTH = 600  # the viewBox: the chart is scaled to the column's width by CSS
HEIGHT = 80
GAP = 0.2  # share of a bar's slot left empty
MIN_BAR = 2  # the height of a period with few articles still shows


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    href: str  # None for an empty period
    selected: bool


@dataclass
class Chart:
    width: int
    height: int
    bars: list
    undated: int

    @property
    def first(self):
        return self.bars[0].label

    @property
    def last(self):
        return self.bars[-1].label


def chart(values, base):
    """A Chart of the timeline facet's values (links start with `base`, the search page), or None with
    fewer than two periods: one bar is no curve."""
    periods = [v for v in values if v.value != NO_VALUE]
    if len(periods) < 2:
        return None
    slot = WIDTH / len(periods)
    most = max(v.count for v in periods) or 1
    bars = []
    for i, v in enumerate(periods):
        height = max(MIN_BAR, HEIGHT * v.count / most) if v.count else 0
        bars.append(Bar(round(i * slot + slot * GAP / 2, 2), round(HEIGHT - height, 2), round(slot * (1 - GAP), 2),
                        round(height, 2), v.label, v.count, base + v.toggle_url if v.toggle_url else None,
                        v.selected))
    return Chart(WIDTH, HEIGHT, bars, sum(v.count for v in values if v.value == NO_VALUE))
