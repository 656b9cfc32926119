import pickle
import subprocess
import sys

from index.analysis.analyzers import FoldedAnalyzer, FoldedPairAnalyzer, PairAnalyzer, SyllableAnalyzer, WordAnalyzer, terms
from index.analysis.normalize import canonical, fold
from index.store.schema import make_schema

TEXT = "Đảng bộ TP. Thủ Đức có 24.317 đảng viên; Thành uỷ giữ gìn hoà bình (21-KL/TW)."


def test_word_tokens_are_pyvi_words_lower_cased_in_canonical_spelling():
    words = terms(WordAnalyzer(), TEXT)
    assert "đảng_viên" in words and "thủ_đức" in words and "hòa_bình" in words
    assert all(w == w.lower() for w in words)
    assert ";" not in words and "(" not in words


def test_offsets_are_true_to_the_source_text():
    for analyzer, form in ((WordAnalyzer(), lambda s: canonical(s).replace(" ", "_")),
                           (SyllableAnalyzer(), canonical), (FoldedAnalyzer(), lambda s: fold(canonical(s)))):
        tokens = list(analyzer(TEXT, positions=True, chars=True))
        assert tokens
        for t in tokens:
            assert form(TEXT[t.startchar:t.endchar]) == t.text


def test_positions_run_in_order_per_granularity():
    positions = [t.pos for t in SyllableAnalyzer()(TEXT, positions=True)]
    assert positions == list(range(len(positions)))


def test_folded_syllables_match_text_typed_without_diacritics():
    assert terms(FoldedAnalyzer(), "Đảng viên") == terms(FoldedAnalyzer(), "dang vien") == ["dang", "vien"]


def test_abbreviation_dot_is_not_part_of_the_term():
    assert terms(SyllableAnalyzer(), "TP. Hồ Chí Minh")[:1] == ["tp"]


def test_pairs_are_neighbouring_syllables_with_no_punctuation_between():
    assert terms(PairAnalyzer(), "Đảng viên Thủ Đức. Hà Nội") == ["đảng viên", "viên thủ", "thủ đức", "hà nội"]
    assert terms(FoldedPairAnalyzer(), "Đảng viên, thủ đức!") == ["dang vien", "thu duc"]
    assert terms(PairAnalyzer(), "các tỉnh, thành phố (Hà Nội) “đánh bay”") == [
        "các tỉnh", "thành phố", "hà nội", "đánh bay"]  # no compound "tỉnh thành", "phố hà"


def test_abbreviations_written_with_signs_are_pairs():
    assert terms(PairAnalyzer(), "Sở GD-ĐT và Sở NN&PTNT") == ["sở gd", "gd đt", "đt và", "và sở", "sở nn", "nn ptnt"]


def test_pair_offsets_span_both_syllables_in_the_source():
    for t in PairAnalyzer()(TEXT, positions=True, chars=True):
        first, second = t.text.split(" ")
        piece = TEXT[t.startchar:t.endchar]
        assert canonical(piece).startswith(first) and canonical(piece).endswith(second), (t.text, piece)


def test_schema_pickles_and_loads_in_another_process():
    """Whoosh stores the pickled schema in the index: it must load where __main__ is not ours."""
    data = pickle.dumps(make_schema())
    code = "import pickle,sys; s=pickle.loads(sys.stdin.buffer.read()); print(sorted(s.names())[0])"
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    assert out.stdout.strip() == b"author"
