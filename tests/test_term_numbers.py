"""index.analysis.term_numbers: a text's numbered terms are the analyzers' terms, at every granularity."""

import random
from collections import Counter

import pytest

from index.analysis import term_numbers
from index.analysis.analyzers import terms
from index.analysis.normalize import nfc
from index.store.schema import GRANULARITIES
from tests.conftest import SEEDS
from tests.test_builder import TRICKY

PIECES = ["Hà", "Nội", "hà", "nội", "HÀ", "thủ", "Đức", "hoà", "bình", "hòa", "TP.", "Tp.", "ThS.", "HCM", "24.317",
          "3,5%", ",", ".", "!", "?", ";", "...", "-", "(", ")", "\n", "GD-ĐT", "NN&PTNT", "_", "x_y", "đảng", "viên",
          "http://a.vn/b?c=1", "a@b.vn", "Σ", "日本", "e\u0301", "\u00d0", "2017", "A.", "B."]


def analyzer_terms(text):
    return {g: Counter(terms(analyzer(), text)) for g, analyzer in GRANULARITIES.items()}


def names(lex, granularity, keys):
    """The terms of `keys`, from the pieces `TermNumbers.names` points at."""
    blob, starts, lengths = lex.names(granularity, keys)
    return [b"".join(blob[s:s + n].tobytes() for s, n in zip(row, sizes)).decode("utf-8")
            for row, sizes in zip(starts.tolist(), lengths.tolist())]


def named(lex, found):
    return {g: Counter(dict(zip(names(lex, g, keys), counts.tolist()))) for g, (keys, counts) in found.items()}


def texts():
    rng = random.Random(11)
    made = [" ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 30))) for _ in range(200)]
    seeds = [nfc(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.iterdir()) if p.suffix == ".txt"]
    return TRICKY + seeds + made


@pytest.mark.parametrize("text", texts())
def test_terms_are_the_analyzers_terms(text):
    lex = term_numbers.TermNumbers()
    assert named(lex, lex.terms(text)) == analyzer_terms(text)


def test_the_string_path_gives_the_same_terms_as_the_arrays():
    """Texts with control characters take it; it must number terms as the arrays do."""
    lex = term_numbers.TermNumbers()
    for text in texts():
        arrays, strings = lex.terms(text), lex._from_strings(nfc(text))
        assert {g: (k.tolist(), c.tolist()) for g, (k, c) in arrays.items()} == {
            g: (k.tolist(), c.tolist()) for g, (k, c) in strings.items()}


def test_a_text_with_control_characters_is_analysed_as_the_analyzers_do():
    """pyvi sees a space for each control (one piece fewer than the text has): the string path."""
    lex = term_numbers.TermNumbers()
    text = "đảng\x00viên nông\x07dân"
    assert named(lex, lex.terms(text)) == analyzer_terms(text)
    assert named(lex, lex.terms(text))["words"] == Counter({"đảng_viên": 1, "nông_dân": 1})


def test_numbers_are_shared_by_every_text_of_a_process():
    lex = term_numbers.TermNumbers()
    first = lex.terms("Lúa gạo Hà Nội")
    second = lex.terms("gạo lúa")
    numbers = dict(zip(names(lex, "syllables", first["syllables"][0]), first["syllables"][0].tolist()))
    assert dict(zip(names(lex, "syllables", second["syllables"][0]), second["syllables"][0].tolist())) == {
        "gạo": numbers["gạo"], "lúa": numbers["lúa"]}


def test_terms_stay_the_same_when_the_crf_numbers_pieces_afresh(monkeypatch):
    """The term numbers keep their facts under the CRF model's piece numbers, which start afresh now and then."""
    from index.analysis import crf

    lex = term_numbers.TermNumbers()
    text = "Ông Nguyễn Văn A, Chủ tịch UBND TP.HCM, thăm quận Thủ Đức năm 2017; hòa bình, khoẻ."
    expected = named(lex, lex.terms(text))
    monkeypatch.setattr(crf, "_MAX_SYLLABLES", 5)
    for other in ("một hai ba bốn năm sáu bảy", text, "tám chín mười", text):
        found = named(lex, lex.terms(other))
        assert found == (expected if other == text else analyzer_terms(other))


def test_texts_analysed_together_get_their_own_terms(monkeypatch):
    """Segmented together (the CRF's steps across texts), numbered afresh only between batches."""
    from index.analysis import crf

    monkeypatch.setattr(crf, "_MAX_SYLLABLES", 50)
    lex = term_numbers.TermNumbers()
    batch = texts()[:60]
    for _ in range(2):
        assert [named(lex, found) for found in lex.terms_many(batch)] == [analyzer_terms(t) for t in batch]


def test_full_term_numbers_are_started_afresh(monkeypatch):
    monkeypatch.setattr(term_numbers, "_MAX_TERMS", 3)
    before = term_numbers.term_numbers()
    before.terms("một hai ba bốn năm")
    assert before.full()
    term_numbers.forget()
    assert len(term_numbers.term_numbers()) == 0 and term_numbers.term_numbers() is not before
