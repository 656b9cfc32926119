"""pyvi's CRF (a crfsuite model labelling each syllable B_W or I_W), evaluated with numpy.

pycrfsuite takes a syllable's features as strings ("word.lower():đảng",
"-1:word.istitle()", ...), looks each one up in the model's string database and
sums its weights: that was 38 % of indexing time. Here each distinct syllable is
looked up once, and the state scores of many texts at once are sums of arrays.
The sums are crfsuite's: the same float64 weights read from the model file, added
in the same order (a feature a syllable lacks adds 0.0, which changes no sum), and
the labels come from crfsuite's own Viterbi, ties broken as it breaks them, its
steps run across texts in arrays with each text's float operations unchanged. So
the labels are pycrfsuite's, which tests/test_crf.py and `bench_index.py
--identity all` (every baomoi article) check.
"""

import struct
import threading
from array import array
from bisect import bisect_right

import numpy as np

_NGRAM_BITS = 21  # a lower-case syllable's number in an n-gram key: three fit in 63 bits
_MAX_SYLLABLES = 1 << 20  # distinct syllables remembered before starting afresh
_GROUP = 256  # texts whose Viterbi steps run together
_CELLS = 1 << 21  # at most (longest text) x (texts) steps in a group's arrays: 38 MB
_ALONE = 16  # fewer texts still going than this: each goes on alone


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
    """pyvi's features and CRF over texts' syllables (`segmenter.syllables`): `tag_many(number(texts))`
    gives their label numbers."""

    def __init__(self, data, bi_grams, tri_grams):
        self.labels, self._weights, transitions = read_model(data)
        if len(self.labels) != 2:
            raise ValueError(f"pyvi's model has labels B_W and I_W, this one {self.labels}")
        self._transitions = transitions
        self.bi_grams, self.tri_grams = bi_grams, tri_grams  # pyvi's word lists: pairs and triples of syllables
        zero = np.zeros(2)
        self._lock = threading.RLock()  # numbering grows shared arrays: a server segments queries in threads
        self._constant = {name: self._weights.get(name, zero) for name in (
            "bias", "word.isupper()", "word.istitle()", "word.isdigit()",
            "-1:word.istitle()", "-1:word.isupper()", "-1:word.bi_gram()", "-2:word.tri_gram()",
            "+1:word.istitle()", "+1:word.isupper()", "+1:word.bi_gram()", "+2:word.tri_gram()")}
        self._forget()

    def _forget(self):
        """Start numbering syllables afresh (the n-grams' syllables first)."""
        self.generation = getattr(self, "generation", -1) + 1
        self.syllables = []  # number -> syllable
        self._numbers = Numbering(self._number)
        self._lowers = {}
        # per syllable number: its own, previous and next lower-case features' weights (two floats
        # each), its shape, its lower case's number
        self._own, self._before, self._after = array("d"), array("d"), array("d")
        self._upper, self._title, self._digit = array("b"), array("b"), array("b")
        self._lower = array("q")
        self._bi_grams = np.unique([self._key(*gram.split(" ")) for gram in self.bi_grams])
        self._tri_grams = np.unique([self._key(*gram.split(" ")) for gram in self.tri_grams])

    def _key(self, *lowers):
        """The n-gram key of lower-case syllables: pyvi's `" ".join([a, b]).lower()` is
        `a.lower() + " " + b.lower()`, the only context-dependent lower-casing (Greek final sigma)
        stopping at the space, so syllables are lower-cased one by one and their numbers joined."""
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
        self.syllables.append(syllable)
        lower = syllable.lower()
        zero = np.zeros(2)
        self._own.extend(self._weights.get("word.lower():" + lower, zero))
        self._before.extend(self._weights.get("-1:word.lower():" + lower, zero))
        self._after.extend(self._weights.get("+1:word.lower():" + lower, zero))
        self._upper.append(syllable.isupper())
        self._title.append(syllable.istitle())
        self._digit.append(syllable.isdigit())
        self._lower.append(self._key(lower))
        return len(self.syllables) - 1

    def number(self, texts):
        """Each text's syllables' numbers, arrays for `tag`; unseen syllables are numbered
        (`self.syllables` grows). When too many have been seen, numbering starts afresh (and
        `generation` changes) first: numbers given together stay valid together."""
        with self._lock:
            if len(self._numbers) > _MAX_SYLLABLES:
                self._forget()
            get = self._numbers.__getitem__
            return [np.fromiter(map(get, syllables), dtype=np.int64, count=len(syllables)) for syllables in texts]

    def scores(self, ids, first=None):
        """The state score of each label at each syllable (by `number`): an (n, 2) array, summed as
        crfsuite sums an item's attributes: its own, then the previous syllable's, then the next one's.

        `ids` may be several texts one after another, `first` marking where each starts: a syllable
        then has neighbours only in its own text. Scoring texts together costs a few array
        operations for all of them, where each text alone costs as many."""
        n = len(ids)
        joined = np.ones(max(n - 1, 0), dtype=bool) if first is None else ~first[1:]  # i and i + 1: one text
        c = self._constant
        upper, title = _flags(self._upper)[ids], _flags(self._title)[ids]
        lower = np.frombuffer(self._lower, dtype=np.int64)[ids]
        pairs = lower[:-1] << _NGRAM_BITS | lower[1:]
        bi = _member(pairs, self._bi_grams) & joined
        tri = _member(pairs[:-1] << _NGRAM_BITS | lower[2:], self._tri_grams) & joined[:-1] & joined[1:]

        s = np.zeros((n, 2))
        s += c["bias"]
        s += _weights(self._own)[ids]
        s[upper] += c["word.isupper()"]
        s[title] += c["word.istitle()"]
        s[_flags(self._digit)[ids]] += c["word.isdigit()"]
        after = s[1:]  # each syllable but the first, and the one before it
        after[joined] += _weights(self._before)[ids[:-1][joined]]
        after[title[:-1] & joined] += c["-1:word.istitle()"]
        after[upper[:-1] & joined] += c["-1:word.isupper()"]
        after[bi] += c["-1:word.bi_gram()"]
        after[1:][tri] += c["-2:word.tri_gram()"]
        before = s[:-1]  # each syllable but the last, and the one after it
        before[joined] += _weights(self._after)[ids[1:][joined]]
        before[title[1:] & joined] += c["+1:word.istitle()"]
        before[upper[1:] & joined] += c["+1:word.isupper()"]
        before[bi] += c["+1:word.bi_gram()"]
        before[:-1][tri] += c["+2:word.tri_gram()"]
        return s

    def tag(self, ids):
        """The label number of each syllable (by `number`): crfsuite's Viterbi (crf1dc_viterbi) over
        two labels, a later label chosen only when its score is strictly greater."""
        return self.tag_many([ids])[0]

    def tag_many(self, sequences):
        """`tag` of each of several texts: each text's float operations are `tag`'s, but a step of the
        Viterbi runs across texts of similar length at once (one numpy operation costs what about
        twenty plain-float steps cost)."""
        with self._lock:  # numbers stay those of this generation meanwhile
            return self._tag_many(sequences)

    def _tag_many(self, sequences):
        labels = [None] * len(sequences)
        groups, group = [], []
        for k in sorted(range(len(sequences)), key=lambda k: len(sequences[k])):
            if group and (len(group) == _GROUP or (len(group) + 1) * len(sequences[k]) > _CELLS):
                groups.append(group)
                group = []
            group.append(k)
        for group in groups + ([group] if group else []):
            for k, found in zip(group, self._viterbi([sequences[k] for k in group])):
                labels[k] = found
        return labels

    def _viterbi(self, sequences):
        """Labels of `sequences`, shortest first. While at least _ALONE texts are still going, each
        step is array operations across them; the longest texts finish alone, in plain floats."""
        ends = [len(ids) for ids in sequences]
        n, longest = len(sequences), ends[-1]
        if not longest:
            return [[] for _ in sequences]
        lengths = np.array(ends)
        starts = np.cumsum(lengths) - lengths
        first = np.zeros(int(lengths.sum()), dtype=bool)
        first[starts[lengths > 0]] = True
        scores = np.zeros((longest, n, 2))  # (step, text, label)
        steps = np.arange(len(first)) - np.repeat(starts, lengths)
        scores[steps, np.repeat(np.arange(n), lengths)] = self.scores(np.concatenate(sequences), first)
        (t00, t01), (t10, t11) = self._transitions
        alpha = scores[0].copy()
        back = np.zeros((longest, n, 2), dtype=bool)  # at each step, whether label 0 (1) is best reached from 1
        t, k = 1, bisect_right(ends, 1)  # texts k: have a step t
        while t < longest and n - k >= _ALONE:
            a0, a1 = alpha[k:, 0], alpha[k:, 1]
            x, y = a0 + t00, a1 + t10
            b0 = y > x
            m0 = np.where(b0, y, x)
            x, y = a0 + t01, a1 + t11
            b1 = y > x
            m1 = np.where(b1, y, x)
            back[t, k:, 0], back[t, k:, 1] = b0, b1
            alpha[k:, 0], alpha[k:, 1] = m0 + scores[t, k:, 0], m1 + scores[t, k:, 1]
            t += 1
            k = bisect_right(ends, t, k)
        alone = t  # texts k: go on alone from this step
        for j in range(k, n):
            alpha[j], back[alone:ends[j], j] = _forward(alpha[j].tolist(), scores[alone:ends[j], j].tolist(),
                                                        self._transitions)
        labels = np.zeros((longest, n), dtype=bool)
        label = alpha[:, 1] > alpha[:, 0]  # the best last label; then back along the links
        for j in range(k, n):
            labels[alone:ends[j], j], label[j] = _backward(bool(label[j]), back[alone:ends[j], j].tolist())
        for t in range(alone - 1, 0, -1):
            k = bisect_right(ends, t)
            labels[t, k:] = label[k:]
            label[k:] = np.where(label[k:], back[t, k:, 1], back[t, k:, 0])
        labels[0] = label
        return [labels[:ends[j], j].astype(np.int64).tolist() for j in range(n)]


def _forward(alpha, scores, transitions):
    """One text's Viterbi steps in plain floats, from `alpha` (the two scores before the first of
    `scores`): the last alpha and the back links of each step."""
    (t00, t01), (t10, t11) = transitions
    a0, a1 = alpha
    links = []
    link = links.append
    for s0, s1 in scores:
        x, y = a0 + t00, a1 + t10
        b0 = y > x
        m0 = y if b0 else x
        x, y = a0 + t01, a1 + t11
        b1 = y > x
        a1 = (y if b1 else x) + s1
        a0 = m0 + s0
        link((b0, b1))
    return (a0, a1), links


def _backward(label, links):
    """The labels of the steps `links` cover, from the label of the last one, and the label before them."""
    labels = []
    for b0, b1 in reversed(links):
        labels.append(label)
        label = b1 if label else b0
    labels.reverse()
    return labels, label


def _weights(column):
    """A column of two weights per syllable, as an (n, 2) array (a view: read it, do not keep it)."""
    return np.frombuffer(column, dtype=np.float64).reshape(-1, 2)


def _flags(column):
    return np.frombuffer(column, dtype=bool)


class Numbering(dict):
    """key -> number; an unseen key is numbered (by `new`, which also stores what goes with the
    number) on first use. Looking up many keys is `map(numbering.__getitem__, keys)`, in C."""

    def __init__(self, new):
        super().__init__()
        self._new = new

    def __missing__(self, key):
        number = self[key] = self._new(key)
        return number


def _member(keys, known):
    """Which of `keys` are in the sorted array `known`."""
    if not len(known) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(known, keys)
    return known[np.minimum(at, len(known) - 1)] == keys
