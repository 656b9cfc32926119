from pathlib import Path

import pytest

from index import segmenter
from index.normalize import nfc

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem[:3])
def test_segmentation_is_identical_to_pyvi(path):
    text = nfc(path.read_text(encoding="utf-8"))
    words = segmenter.words(text)
    assert segmenter.as_pyvi(text, words) == segmenter.pyvi().tokenize(segmenter.prepare(text))


def test_words_are_spans_of_the_source_text():
    text = "Đảng bộ TP Thủ Đức có 24.317 đảng viên."
    words = segmenter.words(text)
    surface = [text[w[0][0]:w[-1][1]] for w in words]
    assert "Thủ Đức" in surface and "đảng viên" in surface and "24.317" in surface


def test_new_tone_placement_segments_like_the_old_one_pyvi_was_trained_on():
    old = [len(w) for w in segmenter.words("giữ gìn hoà bình, củng cố cấp uỷ")]
    new = [len(w) for w in segmenter.words("giữ gìn hòa bình, củng cố cấp ủy")]
    assert old == new
    assert 2 in new  # "hòa bình" and "cấp ủy" are words, not syllables


def test_control_characters_do_not_move_into_words():
    text = "đảng\x00viên"
    words = segmenter.words(text)
    for word in words:
        for start, end in word:
            assert "\x00" not in text[start:end]


def test_empty_and_punctuation_only_text():
    assert segmenter.words("") == []
    assert all(len(w) == 1 for w in segmenter.words("?!... --"))
