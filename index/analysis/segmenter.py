"""Vietnamese word segmentation with pyvi, keeping character offsets into the source.

pyvi's `ViTokenizer.tokenize` returns a rewritten string (syllables joined by
"_", spaces around punctuation), which loses where each word stood. We run the
same steps it runs (its syllable pattern, its CRF features and model, its rule
for joining syllables) over `re.finditer`, so every word comes out as a span of
the source text and the segmentation stays identical to pyvi's.
"""

import importlib.util
import os
import pickle
import re
import string
import threading

import numpy as np

from index.analysis import crf
from index.analysis.normalize import old_style

# pyvi's own syllable pattern (ViTokenizer.sylabelize), compiled once; its groups do not capture,
# so `findall` gives the syllables themselves (a match is the same either way). A run that must be
# followed by something outside it ("." after capitals, "://" or "@" after a word) is possessive
# (`++`): giving characters back could never let the match succeed, and not trying is 15 % faster.
_ABBREVIATIONS = [r"[A-ZĐ]++\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
_SPECIALS = [r"==>", r"->", r"\.\.\.", r">>", "\n"]
_WEB = r"\w++://[^\s]+"
_EMAIL = r"(?:[a-zA-Z0-9_.+-]++@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)"
_DIGIT = r"\d++(?:[\.,_]\d++)+"
PYVI_PATTERN = re.compile("|".join(_ABBREVIATIONS + _SPECIALS + [_WEB, _EMAIL, _DIGIT, r"[^\w\s]", r"\w+"]))

# Control characters: pyvi moves them into neighbouring words
# ("đảng\x00viên" -> "đảng \x00_viên"); a space in their place keeps offsets.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")

_tokenizer = None


def pyvi():
    """pyvi's ViTokenizer, imported on first use: loading its model takes about a second."""
    global _tokenizer
    if _tokenizer is None:
        from pyvi.ViTokenizer import ViTokenizer

        _tokenizer = ViTokenizer
    return _tokenizer


def piece_facts(piece):
    """What pyvi's joining rule (`joins`) reads of a piece: whether it is punctuation, starts with a digit,
    starts with a capital."""
    return piece in string.punctuation, piece[0].isdigit(), piece[0].istitle()


def joins(previous, current):
    """pyvi's rule for gluing a piece to the one before it, once the model said I_W, on their `piece_facts`:
    neither is punctuation nor starts with a digit, and no capital follows a small letter. Each fact is a
    bool, or a numpy boolean array for every pair of a text at once (`^ True` negates both)."""
    (punctuation, digit, title), (punctuation_, digit_, title_) = previous, current
    return (punctuation | punctuation_ | digit | digit_ | (title_ & (title ^ True))) ^ True


def pieces(text):
    """pyvi's syllables of `text` as (start, end) spans."""
    return [m.span() for m in PYVI_PATTERN.finditer(text)]


def syllables(text):
    """pyvi's syllables of `text`, as strings."""
    return PYVI_PATTERN.findall(text)


def prepare(text):
    """The text as pyvi should see it: controls blanked, tone marks in the old placement.

    Same length as `text`, so spans found in it are spans of `text`.
    """
    return old_style(_CONTROLS.sub(" ", text))


def label_with_pyvi(syllables):
    """pyvi's own labelling (feature dicts, sklearn_crfsuite): the reference `label` must agree with."""
    tokenizer = pyvi()
    return tokenizer.model.predict([tokenizer.sent2features(syllables, False)])[0]


_model = None
_loading = threading.Lock()


def load():
    """Load pyvi's model (before forking workers, so that they share it)."""
    model()


class _Saved:
    """Whatever pyvi's pickle holds besides plain data, kept as its state (the CRF's settings, its model file)."""

    def __setstate__(self, state):
        self.__dict__.update(state)


class _ModelUnpickler(pickle.Unpickler):
    """Reads pyvi's pickled sklearn_crfsuite CRF without importing sklearn_crfsuite: that import brings
    scikit-learn and SciPy (1.5 s and 80 MB per process) for a model file we read by ourselves."""

    def find_class(self, module, name):
        return _Saved if module.startswith("sklearn_crfsuite") else super().find_class(module, name)


def _pyvi_file(name):
    return os.path.join(importlib.util.find_spec("pyvi").submodule_search_locations[0], name)


def model():
    """pyvi's CRF model (`index.crf.Model`), with pyvi's bigram and trigram sets read as `ViTokenizer` reads them."""
    global _model
    with _loading:  # threads asking at once share one model: numbers from one are meaningless to another
        if _model is None:
            _model = _load_model()
    return _model


def _load_model():
    with open(_pyvi_file("models/pyvi3.pkl"), "rb") as f:
        data = _ModelUnpickler(f).load().modelfile.__dict__["__FILE_RESOURCE_DATA__"]
    with open(_pyvi_file("models/words.txt"), encoding="utf-8", newline="") as f:  # as codecs.open reads it
        grams = f.read().split("\n")
    bi_grams = {t for t in grams if len(t.split(" ")) == 2}
    tri_grams = {t for t in grams if len(t.split(" ")) == 3}
    return crf.Model(data, bi_grams, tri_grams)


def label(syllables):
    """pyvi's B_W/I_W label for each syllable of an already prepared text."""
    crf_model = model()
    return [crf_model.labels[n] for n in crf_model.tag(crf_model.number([syllables])[0])]


def inside_many(sequences):
    """For each syllable of each text (numbered together by `model().number`), whether pyvi's CRF labels it I_W
    (inside a word): boolean arrays. Texts labelled together go faster (`crf.Model.tag_many`)."""
    crf_model = model()
    inside = crf_model.labels.index("I_W")
    return [np.array(labels, dtype=np.int64) == inside for labels in crf_model.tag_many(sequences)]


def words(text):
    """Segment `text` into words, each a tuple of its syllables' (start, end) spans.

    A word is one or more syllables that pyvi joins with "_". Punctuation and
    symbols come out as words of their own, as in pyvi.
    """
    prepared = prepare(text)
    spans = pieces(prepared)
    if not spans:
        return []
    syllables = [prepared[s:e] for s, e in spans]
    result = []
    word = [spans[0]]
    facts = [piece_facts(syllable) for syllable in syllables]
    inside = inside_many(model().number([syllables]))[0]
    for span, previous, current, joined in zip(spans[1:], facts, facts[1:], inside[1:].tolist()):
        if joined and joins(previous, current):
            word.append(span)
        else:
            result.append(tuple(word))
            word = [span]
    result.append(tuple(word))
    return result


def as_pyvi(text, segmented):
    """Render words the way `ViTokenizer.tokenize` prints them, for checking identity."""
    prepared = prepare(text)
    return " ".join("_".join(prepared[s:e] for s, e in word) for word in segmented)
