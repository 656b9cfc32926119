import unicodedata

import pytest

from index.normalize import canonical, fold, has_diacritics, new_style, nfc, old_style


@pytest.mark.parametrize("old, new", [
    ("hoà bình", "hòa bình"), ("Thanh Hoá", "Thanh Hóa"), ("thuỷ lợi", "thủy lợi"), ("cấp uỷ", "cấp ủy"),
    ("khoẻ", "khỏe"), ("HOÀ", "HÒA"), ("Thuý", "Thúy"),
])
def test_old_and_new_tone_placement_meet_in_one_canonical_form(old, new):
    assert new_style(old) == new
    assert old_style(new) == old
    assert canonical(old) == canonical(new) == new.lower()


@pytest.mark.parametrize("word", ["quý", "khuya", "hoàng", "thuyết", "mùa", "ngoài", "thuế", "khuỷu"])
def test_placement_that_both_styles_agree_on_is_left_alone(word):
    assert new_style(word) == word
    assert old_style(word) == word


def test_decomposed_input_and_lookalike_letters_become_vietnamese():
    decomposed = unicodedata.normalize("NFD", "Đảng viên")
    assert nfc(decomposed) == "Đảng viên"
    assert nfc("\u00d0ảng") == "Đảng"  # Icelandic eth
    assert fold("\u00d0ảng") == "Dang"


def test_every_step_keeps_the_length_so_offsets_stay_true():
    text = "Thành uỷ Thanh Hoá, hoà bình, khoẻ mạnh, thuỷ sản"
    for step in (nfc, new_style, old_style, canonical):
        assert len(step(text)) == len(text)


def test_fold_removes_every_mark():
    assert fold("Đảng viên Hồ Chí Minh ưu tiên") == "Dang vien Ho Chi Minh uu tien"
    assert not has_diacritics("dang vien")
    assert has_diacritics("đang vien")
