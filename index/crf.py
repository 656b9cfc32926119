"""pyvi's CRF (a crfsuite model labelling each syllable B_W or I_W), evaluated with numpy.

pycrfsuite takes a syllable's features as strings ("word.lower():đảng",
"-1:word.istitle()", ...), looks each one up in the model's string database and
sums its weights: a third of indexing time. Here each distinct syllable is looked
up once, and a text's state scores are sums of arrays. The sums are crfsuite's:
the same float64 weights read from the model file, added in the same order (a
feature a syllable lacks adds 0.0, which changes no sum), and the labels come
from crfsuite's own Viterbi, ties broken as it breaks them. So the labels are
pycrfsuite's, which tests/test_crf.py and `bench_index.py --identity` check.
"""

import struct

import numpy as np

_NGRAM_BITS = 21  # a lower-case syllable's number in an n-gram key: three fit in 63 bits
_MAX_SYLLABLES = 1 << 20  # distinct syllables remembered before starting afresh


def read_model(data):
    """(labels, {attribute: its weight per label}, transitions[from][to]) of a crfsuite model file.

    The format is crfsuite's crf1dmodel.c: a header of offsets, the features (type, source,
    destination, float64 weight), and two string databases (CQDB) numbering labels and attributes.
    """
    magic, _, kind, _, _, num_labels, _, features_at, labels_at, attributes_at = struct.unpack_from(
        "<4sI4sIIIIIII", data, 0)
    if magic != b"lCRF" or kind != b"FOMC":
        raise ValueError("not a crfsuite first-order CRF model")
    labels = _strings(data, labels_at)
    attributes = _strings(data, attributes_at)
    _, _, count = struct.unpack_from("<4sII", data, features_at)
    weights = np.zeros((len(attributes), num_labels))
    transitions = np.zeros((num_labels, num_labels))
    features = data[features_at + 12:features_at + 12 + 20 * count]
    for kind, source, target, weight in struct.iter_unpack("<IIId", features):  # 0: state, 1: transition
        (weights if kind == 0 else transitions)[source, target] = weight
    return labels, dict(zip(attributes, weights)), transitions.tolist()


def _strings(data, at):
    """The strings of the CQDB database at offset `at`, by their numbers."""
    _, _, _, _, count, backward = struct.unpack_from("<4sIIIII", data, at)
    strings = []
    for number, offset in enumerate(struct.unpack_from(f"<{count}I", data, at + backward)):
        found, size = struct.unpack_from("<II", data, at + offset)
        assert found == number
        strings.append(data[at + offset + 8:at + offset + 7 + size].decode("utf-8"))  # size counts the NUL
    return strings


class Model:
    """pyvi's features and CRF over a text's syllables (`segmenter.syllables`): `tag(number(syllables))`
    gives their label numbers."""

    def __init__(self, data, bi_grams, tri_grams):
        self.labels, self._weights, transitions = read_model(data)
        if len(self.labels) != 2:
            raise ValueError(f"pyvi's model has labels B_W and I_W, this one {self.labels}")
        self._transitions = transitions
        self.bi_grams, self.tri_grams = bi_grams, tri_grams  # pyvi's word lists: pairs and triples of syllables
        zero = np.zeros(2)
        self._constant = {name: self._weights.get(name, zero) for name in (
            "bias", "word.isupper()", "word.istitle()", "word.isdigit()",
            "-1:word.istitle()", "-1:word.isupper()", "-1:word.bi_gram()", "-2:word.tri_gram()",
            "+1:word.istitle()", "+1:word.isupper()", "+1:word.bi_gram()", "+2:word.tri_gram()")}
        self._forget()

    def _forget(self):
        """Start numbering syllables afresh (the n-grams' syllables first)."""
        self.generation = getattr(self, "generation", -1) + 1
        self.syllables = []  # number -> syllable
        self._numbers = _Numbering(self._number)
        self._lowers = {}
        size = 1024
        self._own, self._before, self._after = (np.zeros((size, 2)) for _ in range(3))
        self._upper, self._title, self._digit = (np.zeros(size, dtype=bool) for _ in range(3))
        self._lower = np.zeros(size, dtype=np.int64)
        self._bi_grams = np.unique([self._key(*gram.split(" ")) for gram in self.bi_grams])
        self._tri_grams = np.unique([self._key(*gram.split(" ")) for gram in self.tri_grams])

    def _key(self, *lowers):
        key = 0
        for lower in lowers:
            number = self._lowers.get(lower)
            if number is None:
                number = self._lowers[lower] = len(self._lowers)
            key = key << _NGRAM_BITS | number
        return key

    def _number(self, syllable):
        """A new syllable's number, its share of the features stored under it (as pyvi's
        `word2features` makes them: lower case and its shape, as itself and as a neighbour)."""
        number = len(self._numbers)
        if number == len(self._lower):
            for name in ("_own", "_before", "_after", "_upper", "_title", "_digit", "_lower"):
                old = getattr(self, name)
                grown = np.zeros((2 * len(old),) + old.shape[1:], dtype=old.dtype)
                grown[:len(old)] = old
                setattr(self, name, grown)
        self.syllables.append(syllable)
        lower = syllable.lower()
        zero = np.zeros(2)
        self._own[number] = self._weights.get("word.lower():" + lower, zero)
        self._before[number] = self._weights.get("-1:word.lower():" + lower, zero)
        self._after[number] = self._weights.get("+1:word.lower():" + lower, zero)
        self._upper[number] = syllable.isupper()
        self._title[number] = syllable.istitle()
        self._digit[number] = syllable.isdigit()
        self._lower[number] = self._key(lower)
        return number

    def number(self, syllables):
        """The syllables' numbers, an array for `tag`; unseen syllables are numbered (`self.syllables`
        grows). When too many have been seen, numbering starts afresh and `generation` changes."""
        if len(self._numbers) > _MAX_SYLLABLES:
            self._forget()
        return np.fromiter(map(self._numbers.__getitem__, syllables), dtype=np.int64, count=len(syllables))

    def scores(self, ids):
        """The state score of each label at each syllable (by `number`): an (n, 2) array, summed as
        crfsuite sums an item's attributes: its own, then the previous syllable's, then the next one's."""
        n = len(ids)
        c = self._constant
        upper, title = self._upper[ids], self._title[ids]
        lower = self._lower[ids]
        pairs = lower[:-1] << _NGRAM_BITS | lower[1:]
        bi = _member(pairs, self._bi_grams)
        tri = _member(pairs[:-1] << _NGRAM_BITS | lower[2:], self._tri_grams)

        s = np.zeros((n, 2))
        s += c["bias"]
        s += self._own[ids]
        s[upper] += c["word.isupper()"]
        s[title] += c["word.istitle()"]
        s[self._digit[ids]] += c["word.isdigit()"]
        after = s[1:]  # each syllable but the first, and the one before it
        after += self._before[ids[:-1]]
        after[title[:-1]] += c["-1:word.istitle()"]
        after[upper[:-1]] += c["-1:word.isupper()"]
        after[bi] += c["-1:word.bi_gram()"]
        after[1:][tri] += c["-2:word.tri_gram()"]
        before = s[:-1]  # each syllable but the last, and the one after it
        before += self._after[ids[1:]]
        before[title[1:]] += c["+1:word.istitle()"]
        before[upper[1:]] += c["+1:word.isupper()"]
        before[bi] += c["+1:word.bi_gram()"]
        before[:-1][tri] += c["+2:word.tri_gram()"]
        return s

    def tag(self, ids):
        """The label number of each syllable (by `number`): crfsuite's Viterbi (crf1dc_viterbi) over
        two labels, a later label chosen only when its score is strictly greater."""
        if not len(ids):
            return []
        (t00, t01), (t10, t11) = self._transitions
        scores = self.scores(ids)
        a0, a1 = scores[0].tolist()
        from0, from1 = [], []  # at each later syllable, whether label 0 (1) is best reached from label 1
        into0, into1 = from0.append, from1.append
        for s0, s1 in zip(scores[1:, 0].tolist(), scores[1:, 1].tolist()):
            x, y = a0 + t00, a1 + t10
            if y > x:
                into0(1)
                m0 = y
            else:
                into0(0)
                m0 = x
            x, y = a0 + t01, a1 + t11
            if y > x:
                into1(1)
                a1 = y + s1
            else:
                into1(0)
                a1 = x + s1
            a0 = m0 + s0
        label = 1 if a1 > a0 else 0
        labels = [label]
        for t in range(len(from0) - 1, -1, -1):
            label = from1[t] if label else from0[t]
            labels.append(label)
        labels.reverse()
        return labels


class _Numbering(dict):
    """syllable -> number; an unseen syllable is numbered (and its features stored) on first use."""

    def __init__(self, number):
        super().__init__()
        self._new = number

    def __missing__(self, syllable):
        number = self[syllable] = self._new(syllable)
        return number


def _member(keys, known):
    """Which of `keys` are in the sorted array `known`."""
    if not len(known) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(known, keys)
    return known[np.minimum(at, len(known) - 1)] == keys
