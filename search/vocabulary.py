"""The index's own vocabulary: the accented words a query's letters may stand for, and spelling suggestions.

Learned from the document frequencies of the indexed articles, not from a general model:
pyvi's `ViUtils.add_accents` turns "dang vien" into "Đang viên" and "ha noi"
into "Hà nói", while an archive about party work knows "đảng viên" best.
"""

from collections import Counter
from itertools import compress

from index.analysis.normalize import fold, fold_all
from index.store.schema import TEXT_FIELDS, TITLE_FIELDS

LONGEST_WORD = 4  # syllables
READINGS = 6  # accented forms of a syllable worth trying, the most frequent first


def _by_fold(frequencies, fieldnames):
    """{folded term: ((accented term, document frequency), ...), most frequent first} over `fieldnames` (a
    term in several: its largest frequency).

    Built in few Python steps per term (a first search waits for it): the fields merged as dictionaries,
    every term folded at once, and only the few folded terms that several terms share grouped and sorted.
    """
    counts = {}
    for fieldname in fieldnames:
        found = frequencies(fieldname)
        larger = {term: counts[term] for term in found.keys() & counts.keys() if counts[term] > found[term]}
        counts.update(found)
        counts.update(larger)
    keys = fold_all(counts)
    forms = list(counts.items())
    found = dict(zip(keys, zip(forms)))  # each term alone; a folded term shared: its last, for now
    shared = {key for key, n in Counter(keys).items() if n > 1}
    groups = {}
    for key, form in compress(zip(keys, forms), map(shared.__contains__, keys)):
        groups.setdefault(key, []).append(form)
    for key, group in groups.items():
        found[key] = tuple(sorted(group, key=lambda form: (-form[1], form[0])))
    return found


class Vocabulary:
    """Read from one commit of the index, then shared by every thread (it keeps no reader).

    `frequencies` is a reader's `search.postings.frequencies_by_field`: each field is read once.
    """

    def __init__(self, frequencies):
        self.words = _by_fold(frequencies, [TEXT_FIELDS["words"], TITLE_FIELDS["words"]])
        self.syllables = _by_fold(frequencies, [TEXT_FIELDS["syllables"], TITLE_FIELDS["syllables"]])
        # folded syllable: how many articles hold its readings (summed: the store keeps no count of its own)
        self.folded = {folded: sum(df for _, df in forms) for folded, forms in self.syllables.items()}
        self._letters = sorted(set("".join(self.folded)))

    def knows(self, syllable):
        """Whether the archive has `syllable` as typed: with its marks, or (typed bare) in any reading."""
        if not syllable.accented:
            return syllable.folded in self.syllables
        return any(term == syllable.text for term, _ in self.syllables.get(syllable.folded, ()))

    def words_like(self, syllables):
        """The archive's words (each a tuple of syllables, most frequent first) that `syllables` may stand
        for: those typed with marks as typed, those typed bare in any reading."""
        key = "_".join(s.folded for s in syllables)
        return [tuple(term.split("_")) for term, _ in self.words.get(key, ())
                if _agrees(syllables, term.split("_"))]

    def readings(self, syllable):
        """The (accented form, document frequency) a syllable typed bare may stand for, most frequent first
        (at most READINGS)."""
        return self.syllables.get(syllable.folded, ())[:READINGS]

    def frequency(self, syllable_text):
        """How many articles hold the syllable (title or text)."""
        return next((df for term, df in self.syllables.get(fold(syllable_text), ()) if term == syllable_text), 0)

    def nearest(self, folded):
        """`folded` if the archive knows it, else the most frequent folded syllable one edit away
        ("bayy" -> "bay"), else `folded`."""
        if folded in self.folded:
            return folded
        splits = [(folded[:i], folded[i:]) for i in range(len(folded) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + c + b[1:] for a, b in splits if b for c in self._letters}
        edits |= {a + c + b for a, b in splits for c in self._letters}
        candidates = [(self.folded[t], t) for t in edits if t in self.folded]
        return max(candidates)[1] if candidates else folded


def _agrees(typed, parts):
    return len(typed) == len(parts) and all(s.text == p for s, p in zip(typed, parts) if s.accented)
