"""index.analysis.crf: pyvi's CRF evaluated with numpy gives pycrfsuite's labels."""

import random

import pycrfsuite
import pytest

from index.analysis import crf, segmenter

ALPHABET = ["hà", "nội", "Hà", "Nội", "HÀ", "NỘI", "thủ", "đức", "Thủ", "Đức", "2017", "12", ",", ".", "đảng", "viên",
            "UBND", "tp", "TP", "hồ", "chí", "minh", "Hồ", "Chí", "Minh", "x", "y"]


def pyvi_items(syllables):
    """pyvi's features (ViTokenizer.sent2features) as pycrfsuite reads them."""
    return segmenter.pyvi().sent2features(syllables, False)


def crf_model_bytes():
    with open(segmenter._pyvi_file("models/pyvi3.pkl"), "rb") as f:
        return segmenter._ModelUnpickler(f).load().modelfile.__dict__["__FILE_RESOURCE_DATA__"]


def random_text(rng, n):
    return [rng.choice(ALPHABET) for _ in range(n)]


def test_labels_are_pycrfsuites_on_random_syllables():
    """Every combination of case, digits and pyvi's n-grams the alphabet makes, at every length."""
    model = segmenter.model()
    data = crf_model_bytes()
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(data)  # read in place: `data` must outlive it
    assert model.labels == tagger.labels() == ["B_W", "I_W"]
    rng = random.Random(7)
    for n in list(range(1, 8)) * 20 + [200] * 5:
        syllables = random_text(rng, n)
        assert [model.labels[x] for x in model.tag(model.number([syllables])[0])] == tagger.tag(pyvi_items(syllables))


def test_many_texts_tagged_together_get_pycrfsuites_labels():
    """Steps run across texts while enough are going, then the longest finish alone; empty texts too."""
    model = segmenter.model()
    data = crf_model_bytes()
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(data)
    rng = random.Random(8)
    texts = [random_text(rng, rng.choice([0, 1, 2, 3, rng.randint(4, 60), rng.randint(100, 400)]))
             for _ in range(2 * crf._GROUP + 37)]
    found = model.tag_many(model.number(texts))
    assert [[model.labels[x] for x in f] for f in found] == [tagger.tag(pyvi_items(t)) if t else [] for t in texts]


def test_long_texts_are_tagged_in_small_groups(monkeypatch):
    """A group's arrays hold (longest text) x (texts) steps: a very long article must not make them huge."""
    model = segmenter.model()
    rng = random.Random(4)
    texts = [random_text(rng, n) for n in [5] * 40 + [300] * 3 + [30] * 20]
    expected = [model.tag(ids) for ids in model.number(texts)]
    monkeypatch.setattr(crf, "_CELLS", 400)
    sizes, viterbi = [], model._viterbi

    def measured(group):
        sizes.append((len(group), max(map(len, group))))
        return viterbi(group)

    monkeypatch.setattr(model, "_viterbi", measured)
    assert model.tag_many(model.number(texts)) == expected
    assert all(n * longest <= 400 or n == 1 for n, longest in sizes)


def test_a_model_trained_here_labels_as_pycrfsuite(tmp_path):
    """Not only pyvi's weights: a model with other weights, n-gram lists and transitions."""
    rng = random.Random(3)
    trainer = pycrfsuite.Trainer(verbose=False)
    for _ in range(200):
        syllables = random_text(rng, rng.randint(1, 12))
        trainer.append(pyvi_items(syllables), [rng.choice(["B_W", "I_W"]) for _ in syllables])
    trainer.set_params({"max_iterations": 30})
    trainer.train(str(tmp_path / "model.crfsuite"))
    data = (tmp_path / "model.crfsuite").read_bytes()
    tagger = pycrfsuite.Tagger()
    tagger.open(str(tmp_path / "model.crfsuite"))
    tokenizer = segmenter.pyvi()
    model = crf.Model(data, tokenizer.bi_grams, tokenizer.tri_grams)
    info = tagger.info()  # the weights as crfsuite prints them, with 6 decimals
    assert model.labels == tagger.labels()
    for (attribute, label), weight in info.state_features.items():
        assert model._weights[attribute][model.labels.index(label)] == pytest.approx(weight, abs=1e-6)
    for (source, target), weight in info.transitions.items():
        assert model._transitions[model.labels.index(source)][model.labels.index(target)] == pytest.approx(
            weight, abs=1e-6)
    for n in list(range(1, 10)) * 10:
        syllables = random_text(rng, n)
        assert [model.labels[x] for x in model.tag(model.number([syllables])[0])] == tagger.tag(pyvi_items(syllables))


def test_labels_stay_the_same_when_the_syllable_numbering_starts_afresh(monkeypatch):
    """A long indexing run sees more distinct syllables than the model remembers at once."""
    model = crf.Model(crf_model_bytes(), segmenter.pyvi().bi_grams, segmenter.pyvi().tri_grams)
    text = segmenter.syllables("Ông Nguyễn Văn A, Chủ tịch UBND TP.HCM, thăm quận Thủ Đức năm 2017.")
    expected = model.tag(model.number([text])[0])
    monkeypatch.setattr(crf, "_MAX_SYLLABLES", 5)
    generations = set()
    for _ in range(3):
        assert model.tag(model.number([text])[0]) == expected
        assert len(model.syllables) <= len(set(text))
        generations.add(model.generation)
    assert len(generations) == 3


def test_an_empty_text_has_no_labels():
    assert segmenter.model().tag(segmenter.model().number([[]])[0]) == []
    assert segmenter.model().tag_many([]) == []


def test_a_file_that_is_not_a_crfsuite_model_is_refused():
    with pytest.raises(ValueError, match="not a crfsuite"):
        crf.read_model(b"\0" * 64)
