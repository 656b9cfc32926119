import random
import subprocess
import sys
from pathlib import Path

import pytest

from index.analysis import segmenter
from index.analysis.normalize import nfc

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


TRICKY = [
    "Đảng bộ TP. Thủ Đức có 24.317 đảng viên; Thành uỷ giữ gìn hoà bình (21-KL/TW).",
    "HÀ NỘI - Ông Nguyễn Văn A, Mr. Smith, Dr. Lê và ThS. Trần gặp nhau ở Tp. Hồ Chí Minh ==> kết quả...",
    "Xem http://baomoi.com/a-b/c.epi?x=1 hoặc gửi thư tới ban.bien-tap@vnexpress.net >> 3,5% và 1.000.000 đồng",
    "Σ ΣΑΣ σίσυφος İstanbul ǅemal ﬁnal Ⅻ ½ ²³ ١٢٣ 日本語 👍🏽 e\u0301",
    "đảng\x00viên \u200bnông dân\n\nlúa\tgạo\r\n-> ==> >>> ... .... !!! ?!",
    "a",
    "A. B. C. ĐẢNG VIÊN Đảng Viên đảng viên ĐảngViên",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_text_is_segmented_as_pyvi_does(text):
    assert segmenter.as_pyvi(text, segmenter.words(text)) == segmenter.pyvi().tokenize(segmenter.prepare(text))


@pytest.mark.parametrize("text", TRICKY + [nfc(p.read_text(encoding="utf-8")) for p in SEEDS])
def test_crf_labels_are_pyvis_own(text):
    """Our numpy CRF gives the labels of pyvi's feature dicts through sklearn_crfsuite."""
    syllables = segmenter.syllables(segmenter.prepare(text))
    if syllables:
        assert list(segmenter.label(syllables)) == list(segmenter.label_with_pyvi(syllables))


def test_syllables_are_pyvis_own():
    """Our copy of pyvi's syllable pattern (possessive where backtracking cannot help) finds what pyvi finds."""
    rng = random.Random(3)
    alphabet = ["A", "Đ", "TP", "Tp", "ThS", "Mr", "x", "ở", "1", "23", ".", ",", "_", "@", ":", "/", "//", "-", ">",
                "=", "+", " ", "\n", "\t", "http", "vn", "Ư", "%", "é"]
    texts = TRICKY + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    for text in texts:
        assert segmenter.syllables(nfc(text)) == segmenter.pyvi().sylabelize(text)[1], text  # pyvi composes first


@pytest.mark.parametrize("text", TRICKY)
def test_syllable_spans_and_strings_agree(text):
    prepared = segmenter.prepare(text)
    assert [prepared[s:e] for s, e in segmenter.pieces(prepared)] == segmenter.syllables(prepared)


def test_pyvis_model_and_word_lists_are_read_as_pyvi_reads_them():
    model = segmenter.model()
    assert model.bi_grams == segmenter.pyvi().bi_grams and model.tri_grams == segmenter.pyvi().tri_grams


def test_segmenting_does_not_load_scikit_learn():
    """Its import costs every process (each server worker, each indexing worker) 1.5 s and 80 MB."""
    code = ("import sys; from index.analysis import segmenter; segmenter.load(); segmenter.words('Thủ Đức'); "
            "print(sorted(m for m in ('sklearn', 'scipy', 'sklearn_crfsuite') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"


def test_threads_segmenting_new_words_at_once_get_pyvis_words():
    """A server segments queries in threads; the CRF numbers each new syllable in shared arrays."""
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(12)
    letters = "abcdeghiklmnopqrstuvxyđăâêôơư"
    texts = [" ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 6))) + rng.choice(["", "ng", "nh"])
                      for _ in range(rng.randint(3, 30))).capitalize() for _ in range(400)]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda t: segmenter.as_pyvi(t, segmenter.words(t)), texts))
    assert found == [segmenter.pyvi().tokenize(segmenter.prepare(t)) for t in texts]
