import pytest

from index.locality import gazetteer
from index.locality.gazetteer import (
    PROVINCE_ALIASES,
    districts_named,
    find_district,
    find_newspaper_tag,
    find_old_province,
    find_province,
    find_region,
    old_provinces_of,
    province_2025_of,
    province_label,
    provinces,
    provinces_2025,
    region_of,
    regions,
)


def test_counts_match_the_two_lists():
    assert len(provinces()) == 63
    assert len(provinces_2025()) == 34
    assert len([d for d in gazetteer.districts() if not d.former]) == 696


def test_snapshot_is_commit_sized():
    assert gazetteer.SNAPSHOT.stat().st_size < 1_000_000


def test_every_old_province_has_a_region_and_a_2025_province():
    for province in provinces():
        assert province.region is not None
        assert province.province_2025.is_2025
        assert province.name in province.province_2025.old_provinces


def test_six_regions_cover_the_63_provinces_once():
    assert len(regions()) == 6
    names = [name for region in regions() for name in region.provinces]
    assert sorted(names) == sorted(p.name for p in provinces())


def test_region_resolves_to_its_provinces():
    assert set(find_region("Tây Nguyên").provinces) == {"Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông", "Lâm Đồng"}
    assert find_region("ĐBSCL").name == "Đồng bằng sông Cửu Long"
    assert find_region("dong nam bo").name == "Đông Nam Bộ"
    assert "Hậu Giang" in find_region("Đồng bằng sông Cửu Long").provinces


def test_region_of_an_old_province():
    assert region_of("Hoà Bình").name == "Trung du và miền núi phía Bắc"
    assert region_of("Đà Nẵng").name == "Bắc Trung Bộ và Duyên hải miền Trung"
    assert region_of("Atlantis") is None


@pytest.mark.parametrize("name,alias", [(n, a) for n, aliases in PROVINCE_ALIASES.items() for a in aliases])
def test_every_alias_resolves(name, alias):
    assert find_old_province(alias).name == name


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("TPHCM", "Hồ Chí Minh"),
        ("TP.HCM", "Hồ Chí Minh"),
        ("TP HCM", "Hồ Chí Minh"),
        ("HCM", "Hồ Chí Minh"),
        ("Sài Gòn", "Hồ Chí Minh"),
        ("Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
        ("HN", "Hà Nội"),
        ("Huế", "Thừa Thiên Huế"),
        ("Thừa Thiên Huế", "Thừa Thiên Huế"),
        ("BR-VT", "Bà Rịa - Vũng Tàu"),
        ("Đăk Lăk", "Đắk Lắk"),
        ("Đắk Lắk", "Đắk Lắk"),
        ("Daklak", "Đắk Lắk"),
        ("tỉnh Gia Lai", "Gia Lai"),
    ],
)
def test_short_forms_resolve(typed, expected):
    assert find_old_province(typed).name == expected


@pytest.mark.parametrize("typed", ["ha noi", "Ha Noi", "HA NOI", "thanh pho ha noi", "hanoi"])
def test_names_without_diacritics_resolve(typed):
    assert find_province(typed).name == "Hà Nội"


def test_tone_mark_styles_are_one_name():
    assert find_old_province("Hoà Bình") == find_old_province("Hòa Bình")
    assert find_old_province("Khánh Hoà").name == "Khánh Hòa"
    assert find_old_province("Thanh Hoá").name == "Thanh Hóa"
    assert find_district("Hoà Vang") == find_district("Hòa Vang")


def test_post_2025_province_tells_what_it_covers():
    can_tho = find_province("Cần Thơ")
    assert can_tho.is_2025 and can_tho.merged
    assert can_tho.old_provinces == ("Cần Thơ", "Hậu Giang", "Sóc Trăng")


def test_filter_by_2025_province_covers_the_merged_ones():
    assert old_provinces_of("Cần Thơ") == ["Cần Thơ", "Hậu Giang", "Sóc Trăng"]
    assert old_provinces_of("thanh pho can tho") == ["Cần Thơ", "Hậu Giang", "Sóc Trăng"]
    assert old_provinces_of("Hậu Giang") == ["Hậu Giang"]
    assert old_provinces_of("Hà Nội") == ["Hà Nội"]
    assert old_provinces_of("Huế") == ["Thừa Thiên Huế"]
    assert old_provinces_of("Atlantis") == []


def test_province_2025_of_an_old_province():
    assert province_2025_of("Hậu Giang").name == "Cần Thơ"
    assert province_2025_of("Bình Định").name == "Gia Lai"
    assert province_2025_of("Hà Nội").name == "Hà Nội"


def test_province_label():
    assert province_label("Hậu Giang") == "Hậu Giang (nay thuộc Cần Thơ)"
    assert province_label("Hoà Bình") == "Hòa Bình (nay thuộc Phú Thọ)"
    assert province_label("Cần Thơ") == "Cần Thơ"
    assert province_label("Hà Nội") == "Hà Nội"
    assert province_label("Thừa Thiên Huế") == "Thừa Thiên Huế (nay là Huế)"


def test_district_with_type_word():
    thu_duc = find_district("TP Thủ Đức")
    assert (thu_duc.name, thu_duc.kind, thu_duc.province.name) == ("Thủ Đức", "Thành phố", "Hồ Chí Minh")
    nga_bay = find_district("thanh pho nga bay")
    assert (nga_bay.name, nga_bay.province.name) == ("Ngã Bảy", "Hậu Giang")
    assert find_district("Q.1").name == "Quận 1"
    assert find_district("huyện Krông Pa").province.name == "Gia Lai"


def test_ambiguous_district_needs_its_province():
    assert find_district("Châu Thành") is None
    assert len(districts_named("Châu Thành")) == 10
    assert find_district("huyện Châu Thành", "Tiền Giang").province.name == "Tiền Giang"


def test_huyen_quang_ninh_is_in_quang_binh():
    assert find_district("huyện Quảng Ninh").province.name == "Quảng Bình"


def test_former_districts_are_known():
    assert find_district("Quận 9").province.name == "Hồ Chí Minh"
    assert find_district("Quận 9").former


@pytest.mark.parametrize(
    "tag,expected",
    [
        ("(BĐ)", "Bình Định"),
        ("ĐTO", "Đồng Tháp"),
        ("(HG)", "Hậu Giang"),
        ("(Thanhuytphcm.vn)", "Hồ Chí Minh"),
        ("Báo Quảng Ngãi", "Quảng Ngãi"),
        ("Baoquangninh.com.vn", "Quảng Ninh"),
    ],
)
def test_newspaper_tags(tag, expected):
    assert find_newspaper_tag(tag).name == expected


@pytest.mark.parametrize("tag", ["BD", "TTXVN", "Dân trí", "PC45"])
def test_other_tags_name_no_province(tag):
    assert find_newspaper_tag(tag) is None
