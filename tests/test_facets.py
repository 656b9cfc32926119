"""Facets and filters on the seeds: places read from the articles, dates, sorting."""

from collections import Counter

import pytest

from search.request import SearchRequest

S000, S001, S002, S003, S004 = ("000_abc709b6f580d3e9", "001_b2fe4df160b6338f", "002_7cfa0be5b48b213f",
                                "003_44e163ab98d69cf3", "004_d70c9f24cee2e267")


def run(engine, q="đảng viên", **params):
    return engine.search(SearchRequest.from_params({"q": q, **params}))


def ids(result):
    return [h.id for h in result.hits]


@pytest.mark.parametrize("params, expected", [
    ({"province": "Hồ Chí Minh"}, [S002]),
    ({"province": "TP.HCM"}, [S002]),
    ({"district": "Thủ Đức"}, [S002]),
    ({"province": "Cần Thơ"}, [S004]),  # Hậu Giang is part of Cần Thơ since 2025
    ({"province": "Hậu Giang"}, [S004]),
    ({"province": "Bình Định"}, [S001]),
    ({"region": "Đồng bằng sông Cửu Long"}, [S003, S004]),
    ({"region": "unknown"}, [S000]),
    ({"from": "2023-01-01", "to": "2023-12-31"}, [S000]),
    ({"from": "2024-01-30", "to": "2024-01-30"}, [S004]),  # inclusive, day precision
    ({"from": "2024-01-12"}, [S004]),
    ({"to": "2022-09-23"}, [S003]),
])
def test_each_filter_finds_exactly_its_articles(engine, params, expected):
    assert sorted(ids(run(engine, **params))) == sorted(expected)


def test_sort_by_date(engine):
    assert ids(run(engine, sort="newest")) == [S004, S001, S000, S002, S003]
    assert ids(run(engine, sort="oldest")) == [S003, S002, S000, S001, S004]


def test_hits_carry_their_locality(engine):
    [hit] = run(engine, "Ngã Bảy").hits
    assert hit.locality["province"] == "Hậu Giang" and hit.locality["district"] == "Ngã Bảy"
    assert hit.locality["province_2025"] == "Cần Thơ" and hit.locality["region"] == "Đồng bằng sông Cửu Long"
    assert 0 < hit.locality["confidence"] <= 1


def test_region_facet_is_a_hierarchy_with_counts_and_an_unknown_bucket(engine):
    values = run(engine).facets["region"]
    by_label = {v.label: v for v in values}
    assert by_label["Đồng bằng sông Cửu Long"].count == 2 and by_label["Đồng bằng sông Cửu Long"].level == 0
    assert by_label["Hậu Giang (nay thuộc Cần Thơ)"].level == 1
    assert by_label["Không rõ địa phương"].count == 1
    assert sum(v.count for v in values if v.level == 0) == 5
    assert not any(v.selected for v in values)


def test_selecting_a_province_opens_its_districts_and_toggles_back(engine):
    result = run(engine, province="Hồ Chí Minh")
    values = {v.label: v for v in result.facets["region"]}
    assert values["Hồ Chí Minh"].selected
    assert values["Thủ Đức"].level == 2 and values["Thủ Đức"].count == 1
    assert "province" not in values["Hồ Chí Minh"].toggle_url  # clicking a selected value removes it
    assert "district=Th%E1%BB%A7+%C4%90%E1%BB%A9c" in values["Thủ Đức"].toggle_url


def test_date_facet_years_then_months_of_a_selected_year(engine):
    years = {v.value: v for v in run(engine).facets["date"]}
    assert (years["2024"].count, years["2023"].count, years["2022"].count) == (2, 1, 2)
    assert "from=2024-01-01" in years["2024"].toggle_url and "to=2024-12-31" in years["2024"].toggle_url
    values = run(engine, **{"from": "2024-01-01", "to": "2024-12-31"}).facets["date"]
    assert [(v.label, v.count, v.level) for v in values] == [("Năm 2024", 2, 0), ("Tháng 1/2024", 2, 1)]
    assert values[0].selected


def test_facet_counts_equal_the_matching_documents(engine):
    """Brute force: count each article's stored values among all hits."""
    result = run(engine, limit="100")
    expected = Counter()
    for hit in result.hits:
        stored = engine.article(hit.id)
        expected[stored["province"] or "-"] += 1
    counted = {v.value: v.count for v in result.facets["region"] if v.level == 1}
    for province, n in counted.items():
        assert expected[province] == n


def test_every_columns_counts_are_its_values_among_the_articles_counted(engine):
    """The counts of each column, made from the articles' combinations of values, against a plain count of
    each article's own value: every article, none, and random sets of them."""
    import numpy as np

    columns = engine.current()[1].columns
    size = len(next(iter(columns.codes.values())))
    rng = np.random.default_rng(4)
    for mask in [np.ones(size, bool), np.zeros(size, bool)] + [rng.random(size) < 0.5 for _ in range(5)]:
        counted = columns.count(mask)
        for name, codes in columns.codes.items():
            expected = Counter(columns.labels[name][c] for c in codes[mask].tolist())
            assert counted[name] == expected, name
    assert sum(len(labels) > 1 for labels in columns.labels.values()) >= 3  # places and dates vary


def test_filters_alone_browse_without_a_query(engine):
    result = run(engine, "", province="Đồng Tháp")
    assert ids(result) == [S003]


def test_unknown_place_is_a_bad_parameter(engine):
    from search.request import BadParameter

    with pytest.raises(BadParameter) as e:
        run(engine, province="Atlantis")
    assert e.value.name == "province"


def test_a_records_own_province_wins(tmp_path):
    from index.writer import index_articles
    from search.engine import Engine
    from tests.conftest import write_jsonl

    records = write_jsonl(tmp_path / "r.jsonl", [
        {"id": "r1", "title": "Tin Hà Nội", "body": "UBND thành phố Hà Nội họp về giao thông.", "province": "Nghệ An"},
    ])
    index_articles([records], tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        [hit] = run(engine, "giao thông").hits
        assert hit.locality["province"] == "Nghệ An" and hit.locality["confidence"] == 1.0


def test_columns_read_at_once_hold_what_whooshs_column_readers_give(tmp_path):
    """Facets and date filters read each segment's column bytes at once: the same values, article by article,
    as Whoosh's own column readers, with a segment lacking the columns (no article in it had one), an
    empty value, dates missing in the middle and at the end, and a deleted article."""
    from datetime import datetime

    from whoosh import index as whoosh_index

    from index.store.reading import column_codes, date_numbers
    from index.store.schema import make_schema

    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    writer = ix.writer()
    for n in range(3):
        writer.add_document(id=f"a{n}")
    writer.commit()
    writer = ix.writer()
    writer.add_document(id="b0", region="Tây Nguyên", date=datetime(2017, 5, 3))
    writer.add_document(id="b1", region="")
    writer.add_document(id="b2", region="Đồng bằng sông Hồng")
    writer.add_document(id="b3", region="Tây Nguyên", date=datetime(2016, 1, 1, 7, 30))
    writer.add_document(id="b4", region="Tây Nguyên")
    writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("id", "b2")
    writer.commit(merge=False)
    with ix.reader() as r:
        segments = list(r.leaf_readers())
        assert [s.has_column("region") for s, _ in segments] == [False, True] and r.has_deletions()
        for name in ("region", "id"):
            expected = []
            for segment, _ in segments:
                column = segment.column_reader(name) if segment.has_column(name) else None
                expected += [column[n] if column else None for n in range(segment.doc_count_all())]
            values, codes = column_codes(r, name)
            assert [values[c] for c in codes] == expected
            assert values == list(dict.fromkeys(expected))  # in the order the articles first hold them
        expected = []
        for segment, _ in segments:
            column = segment.column_reader("date", translate=False) if segment.has_column("date") else None
            expected += [column[n] if column and column[n] < 2 ** 63 else 0 for n in range(segment.doc_count_all())]
        assert date_numbers(r, "date").tolist() == expected and len(set(expected)) == 3
