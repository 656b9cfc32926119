import random
import re
import unicodedata

import pytest

from index.analysis.normalize import canonical, fold, fold_all, has_diacritics, new_style, nfc, old_style


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
    assert nfc("\u0189à \u00f0ã") == "Đà đã" and fold("\u0189à \u00f0ã") == "Da da"


def test_every_step_keeps_the_length_so_offsets_stay_true():
    text = "Thành uỷ Thanh Hoá, hoà bình, khoẻ mạnh, thuỷ sản"
    for step in (nfc, new_style, old_style, canonical):
        assert len(step(text)) == len(text)


def test_fold_removes_every_mark():
    assert fold("Đảng viên Hồ Chí Minh ưu tiên") == "Dang vien Ho Chi Minh uu tien"
    assert not has_diacritics("dang vien")
    assert has_diacritics("đang vien")


def test_a_text_folds_as_the_whole_of_it_decomposed_without_its_marks():
    """`fold` folds each character alone, from a table: the same as decomposing the whole text and dropping every
    mark, for every character up to U+2FFF and for marks standing alone or stacked."""
    plain_d = {0x0110: "D", 0x0111: "d", 0x00D0: "D", 0x00F0: "d", 0x0189: "D"}  # đ and its lookalikes

    def whole(text):
        decomposed = unicodedata.normalize("NFD", text.translate(plain_d))
        return "".join(c for c in decomposed if not unicodedata.combining(c))

    every = "".join(chr(c) for c in range(0x80, 0x3000))
    for text in (every, "a\u0301\u0323b", "\u0301x", "Đảng viên ĐẮK LẮK", "ǅ ﬁ ẞ İ"):
        assert fold(text) == whole(text)


def test_terms_folded_at_once_fold_as_each_alone():
    """The posting files order terms by their folded form (`fold_all`), the searcher folds one (`fold`)."""
    terms = ["đảng viên", "Thủ_Đức", "a\u0301", "\u0301", "", "tesla", "ĐẮK LẮK", "nguyễn"]
    assert fold_all(terms) == [fold(t) for t in terms]
    assert fold_all([]) == []


def _restyled_decomposed(text, to_old):
    """Tone placement swapped on the decomposed text (how it was first written): the reference."""
    end = r"(?![^\W\d_]|[\u0300-\u036f])"
    tones = "[\u0300\u0301\u0303\u0309\u0323]"
    pattern = (r"(?<![qQ])([oOuU])(" + tones + r")([aAeEyY])" if to_old
               else r"(?<![qQ])([oOuU])([aAeEyY])(" + tones + ")") + end

    def swap(m):
        first = m.group(1)
        second, tone = (m.group(3), m.group(2)) if to_old else (m.group(2), m.group(3))
        if second.lower() not in {"o": "ae", "u": "y"}[first.lower()]:
            return m.group(0)
        return first + second + tone if to_old else first + tone + second

    text = nfc(text)
    decomposed = unicodedata.normalize("NFD", text)
    restyled = unicodedata.normalize("NFC", re.sub(pattern, swap, decomposed))
    return restyled if len(restyled) == len(text) else text


def test_tone_placement_swaps_as_on_decomposed_text():
    rng = random.Random(9)
    alphabet = ["o", "O", "u", "U", "a", "A", "e", "E", "y", "Y", "q", "Q", "h", "n", "g", " ", ",", "1", "_", "â",
                "ơ", "ư", "ồ", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0336", "\u1dc0",
                "ò", "ó", "ỏ", "õ", "ọ", "ù", "ú", "ủ", "ũ", "ụ", "à", "á", "ả", "ã", "ạ", "è", "é", "ẻ", "ẽ", "ẹ",
                "ỳ", "ý", "ỷ", "ỹ", "ỵ", "Ò", "Ú", "À", "Ý"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert old_style(text) == _restyled_decomposed(text, to_old=True), text
        assert new_style(text) == _restyled_decomposed(text, to_old=False), text
