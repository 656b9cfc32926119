from index.sources.dates import event_date, find_date, parse_date


def test_day_first_with_vietnam_time_zone():
    d = find_date("08:34, 07/10/2023 (GMT+7)")
    assert d.isoformat() == "2023-10-07T08:34:00+07:00"


def test_gmt_plus_seven_is_east_of_greenwich():
    assert find_date("30/01/2024 | 08:03 GMT+7").isoformat() == "2024-01-30T08:03:00+07:00"


def test_date_in_words_has_day_precision():
    assert find_date("Thứ Tư, ngày 7 tháng 12 năm 2022").isoformat() == "2022-12-07"


def test_event_date_takes_the_year_of_the_banner_and_is_not_after_it():
    banner = find_date("ngày 7 tháng 12 năm 2022")
    assert event_date("Sáng 7/10, Thành ủy họp", banner).isoformat() == "2022-10-07"
    assert event_date("Sáng 25/12, Thành ủy họp", banner).isoformat() == "2021-12-25"
    assert event_date("Thành ủy họp", banner) is None


def test_record_dates():
    assert parse_date("2020-10-01").isoformat() == "2020-10-01"
    assert parse_date("2017-05-27T10:00:23+07:00").isoformat() == "2017-05-27T10:00:23+07:00"
    assert parse_date("07/10/2023").isoformat() == "2023-10-07"
    assert parse_date("không rõ") is None
    assert parse_date("31/02/2023") is None
    assert parse_date("") is None
