"""Vietnamese word segmentation with pyvi, keeping character offsets into the source.

pyvi's `ViTokenizer.tokenize` returns a rewritten string (syllables joined by
"_", spaces around punctuation), which loses where each word stood. We run the
same steps it runs (its syllable pattern, its CRF features and model, its rule
for joining syllables) over `re.finditer`, so every word comes out as a span of
the source text and the segmentation stays identical to pyvi's.
"""

import re
import string

from index.normalize import old_style

# pyvi's own syllable pattern (ViTokenizer.sylabelize), compiled once.
_ABBREVIATIONS = [r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
_SPECIALS = [r"==>", r"->", r"\.\.\.", r">>", "\n"]
_WEB = r"\w+://[^\s]+"
_EMAIL = r"([a-zA-Z0-9_.+-]+@([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)"
_DIGIT = r"\d+([\.,_]\d+)+"
PYVI_PATTERN = re.compile(
    "(" + "|".join(_ABBREVIATIONS + _SPECIALS + [_WEB, _EMAIL, _DIGIT, r"[^\w\s]", r"\w+"]) + ")"
)

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


def prepare(text):
    """The text as pyvi should see it: controls blanked, tone marks in the old placement.

    Same length as `text`, so spans found in it are spans of `text`.
    """
    return old_style(_CONTROLS.sub(" ", text))


def label(prepared, spans):
    """pyvi's B_W/I_W label for each syllable span of an already prepared text."""
    tokenizer = pyvi()
    syllables = [prepared[s:e] for s, e in spans]
    return tokenizer.model.predict([tokenizer.sent2features(syllables, False)])[0]


def words(text, labeler=label):
    """Segment `text` into words, each a tuple of its syllables' (start, end) spans.

    A word is one or more syllables that pyvi joins with "_". Punctuation and
    symbols come out as words of their own, as in pyvi.
    """
    prepared = prepare(text)
    spans = pieces(prepared)
    if not spans:
        return []
    labels = labeler(prepared, spans)
    result = [[spans[0]]]
    for i in range(1, len(spans)):
        previous = prepared[spans[i - 1][0]:spans[i - 1][1]]
        current = prepared[spans[i][0]:spans[i][1]]
        if labels[i] == "I_W" and _joins(previous, current):
            result[-1].append(spans[i])
        else:
            result.append([spans[i]])
    return [tuple(w) for w in result]


def as_pyvi(text, segmented):
    """Render words the way `ViTokenizer.tokenize` prints them, for checking identity."""
    prepared = prepare(text)
    return " ".join("_".join(prepared[s:e] for s, e in word) for word in segmented)
