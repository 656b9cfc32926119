"""Vietnamese text normalization: one canonical spelling for every way a word is typed.

Every step here keeps the length of the text unchanged (after NFC), so that
character offsets computed on the normalized text are true in the source.
"""

import re
import unicodedata

# Lookalike letters that appear in scraped Vietnamese text: Icelandic eth and
# African D instead of Vietnamese Đ.
_LOOKALIKES = str.maketrans({"\u00d0": "Đ", "\u0189": "Đ", "\u00f0": "đ"})
_HAS_LOOKALIKE = re.compile("[\u00d0\u0189\u00f0]")

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}

# "oa", "oe", "uy" at the end of a syllable: the old style puts the tone on the
# second vowel (hoà, thuỷ), the new style on the first (hòa, thủy). With a
# final consonant (hoàng, thuyết) both styles agree.
_END = r"(?![^\W\d_]|[\u0300-\u036f])"  # the syllable ends here: no letter and no further mark follows
_OLD_STYLE = re.compile(r"(?<![qQ])([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])" + _END)
_NEW_STYLE = re.compile(r"(?<![qQ])([oOuU])([\u0300\u0301\u0303\u0309\u0323])([aAeEyY])" + _END)
_PAIRS = {"o": "ae", "u": "y"}


def _pair_ok(first, second):
    return second.lower() in _PAIRS.get(first.lower(), "")


def _to_new(m):
    first, second, tone = m.groups()
    if not _pair_ok(first, second):
        return m.group(0)
    return first + tone + second


def _to_old(m):
    first, tone, second = m.groups()
    if not _pair_ok(first, second):
        return m.group(0)
    return first + second + tone


def _restyle(text, pattern, replace):
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    restyled = pattern.sub(replace, decomposed)
    if restyled == decomposed:
        return text
    restyled = unicodedata.normalize("NFC", restyled)
    return restyled if len(restyled) == len(text) else text  # offsets must stay true


def nfc(text):
    """Compose text to NFC and replace lookalike letters with Vietnamese Đ/đ."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _HAS_LOOKALIKE.search(text):
        text = text.translate(_LOOKALIKES)
    return text


def new_style(text):
    """Put tone marks where the new orthography does: hoà -> hòa, thuỷ -> thủy.

    This is the canonical form the index stores and the query is matched in.
    """
    return _restyle(nfc(text), _OLD_STYLE, _to_new)


def old_style(text):
    """Put tone marks where the old orthography does: hòa -> hoà, thủy -> thuỷ.

    pyvi's model was trained on this placement: "hoà bình" is one word to it,
    "hòa bình" two.
    """
    return _restyle(nfc(text), _NEW_STYLE, _to_old)


def canonical(text):
    """Lower-case canonical form of a word or syllable, as indexed."""
    return new_style(text).lower()


_FOLD = str.maketrans({"đ": "d", "Đ": "D", "\u00d0": "D", "\u0189": "D", "\u00f0": "d"})


def fold(text):
    """Remove every diacritic (tone and vowel marks, đ -> d): "Đảng viên" -> "Dang vien"."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_diacritics(text):
    """True when the text carries any Vietnamese mark (so it was not typed folded)."""
    return fold(text) != text


def tone_marks(text):
    """The tone marks of a syllable, for telling a misplaced tone from a wrong one."""
    return [c for c in unicodedata.normalize("NFD", text) if c in _TONE_MARKS]
