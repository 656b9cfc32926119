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

import pycrfsuite

from index.normalize import old_style

# pyvi's own syllable pattern (ViTokenizer.sylabelize), compiled once; its groups do not capture,
# so `findall` gives the syllables themselves (a match is the same either way).
_ABBREVIATIONS = [r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
_SPECIALS = [r"==>", r"->", r"\.\.\.", r">>", "\n"]
_WEB = r"\w+://[^\s]+"
_EMAIL = r"(?:[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)"
_DIGIT = r"\d+(?:[\.,_]\d+)+"
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


def _joins(previous, current):
    """pyvi's rule for gluing a syllable to the one before it, once the model said I_W."""
    return (
        current not in string.punctuation
        and previous not in string.punctuation
        and not current[0].isdigit()
        and not previous[0].isdigit()
        and not (current[0].istitle() and not previous[0].istitle())
    )


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


_crf_parts = None
_syllable_features = {}
_SYLLABLE_CACHE = 100_000


def load():
    """Load pyvi's model and open its CRF tagger (before forking workers, so that they share them)."""
    _crf()


class _Saved:
    """Whatever pyvi's pickle holds besides plain data, kept as its state (the CRF's settings, its model file)."""

    def __setstate__(self, state):
        self.__dict__.update(state)


class _ModelUnpickler(pickle.Unpickler):
    """Reads pyvi's pickled sklearn_crfsuite CRF without importing sklearn_crfsuite: that import brings
    scikit-learn and SciPy (1.5 s and 80 MB per process) for a model pycrfsuite reads by itself."""

    def find_class(self, module, name):
        return _Saved if module.startswith("sklearn_crfsuite") else super().find_class(module, name)


def _pyvi_file(name):
    return os.path.join(importlib.util.find_spec("pyvi").submodule_search_locations[0], name)


def _crf():
    """pyvi's CRF model as a bare pycrfsuite Tagger, with pyvi's bigram and trigram sets, read as
    `ViTokenizer` reads them."""
    global _crf_parts
    if _crf_parts is None:
        with open(_pyvi_file("models/pyvi3.pkl"), "rb") as f:
            model = _ModelUnpickler(f).load().modelfile.__dict__["__FILE_RESOURCE_DATA__"]
        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(model)
        with open(_pyvi_file("models/words.txt"), encoding="utf-8", newline="") as f:  # as codecs.open reads it
            grams = f.read().split("\n")
        bi_grams = {t for t in grams if len(t.split(" ")) == 2}
        tri_grams = {t for t in grams if len(t.split(" ")) == 3}
        _crf_parts = tagger, bi_grams, tri_grams, model  # the tagger reads `model` in place: keep it alive
    return _crf_parts


def _syllable(syllable):
    """A syllable's share of pyvi's features, once per distinct syllable.

    pycrfsuite reads a string attribute as "name:value" with weight 1.0 and a
    boolean as a weight; a False weight adds exactly nothing to the CRF's scores,
    so the attributes are passed as plain strings, the False ones left out, in the
    order of pyvi's feature dicts (which fixes the order of the float sums).
    Returns (lower, own features, features as the previous syllable, as the next).
    """
    lower = syllable.lower()
    upper, title = syllable.isupper(), syllable.istitle()
    own = ["bias", "word.lower():" + lower]
    before = ["-1:word.lower():" + lower]
    after = ["+1:word.lower():" + lower]
    if upper:
        own.append("word.isupper()")
    if title:
        own.append("word.istitle()")
    if syllable.isdigit():
        own.append("word.isdigit()")
    if title:
        before.append("-1:word.istitle()")
        after.append("+1:word.istitle()")
    if upper:
        before.append("-1:word.isupper()")
        after.append("+1:word.isupper()")
    return lower, own, before, after


def features(syllables):
    """pyvi's `sent2features(syllables)` in the form pycrfsuite reads fastest: one list of strings per syllable.

    `" ".join([a, b]).lower()` (pyvi's n-gram key) is `a.lower() + " " + b.lower()`:
    the only context-dependent lower-casing (Greek final sigma) stops at the space.
    """
    _, bi_grams, tri_grams, _ = _crf()
    cache = _syllable_features
    if len(cache) > _SYLLABLE_CACHE:
        cache.clear()
    info = []
    for s in syllables:
        x = cache.get(s)
        if x is None:
            x = cache[s] = _syllable(s)
        info.append(x)
    lowers = [x[0] for x in info]
    n = len(info)
    pairs = [lowers[i] + " " + lowers[i + 1] for i in range(n - 1)]
    bi = [pair in bi_grams for pair in pairs]
    tri = [pairs[i] + " " + lowers[i + 2] in tri_grams for i in range(n - 2)]
    items = []
    for i in range(n):
        item = info[i][1].copy()
        if i > 0:
            item += info[i - 1][2]
            if bi[i - 1]:
                item.append("-1:word.bi_gram()")
            if i > 1 and tri[i - 2]:
                item.append("-2:word.tri_gram()")
        if i < n - 1:
            item += info[i + 1][3]
            if bi[i]:
                item.append("+1:word.bi_gram()")
            if i < n - 2 and tri[i]:
                item.append("+2:word.tri_gram()")
        items.append(item)
    return items


def tag(items):
    """pyvi's CRF labels for `features(...)` output, straight from pycrfsuite."""
    return _crf()[0].tag(items)


def label(syllables):
    """pyvi's B_W/I_W label for each syllable of an already prepared text."""
    return tag(features(syllables))


def words(text, labeler=label):
    """Segment `text` into words, each a tuple of its syllables' (start, end) spans.

    A word is one or more syllables that pyvi joins with "_". Punctuation and
    symbols come out as words of their own, as in pyvi.
    """
    prepared = prepare(text)
    spans = pieces(prepared)
    if not spans:
        return []
    syllables = [prepared[s:e] for s, e in spans]
    labels = labeler(syllables)
    result = []
    word = [spans[0]]
    previous = syllables[0]
    for span, syllable, tag in zip(spans[1:], syllables[1:], labels[1:]):
        if tag == "I_W" and _joins(previous, syllable):
            word.append(span)
        else:
            result.append(tuple(word))
            word = [span]
        previous = syllable
    result.append(tuple(word))
    return result


def as_pyvi(text, segmented):
    """Render words the way `ViTokenizer.tokenize` prints them, for checking identity."""
    prepared = prepare(text)
    return " ".join("_".join(prepared[s:e] for s, e in word) for word in segmented)
