"""The terms a sequence of query syllables is looked up as, and the articles holding them.

A syllable typed with marks (or read as the reader meant it) is looked up
exactly; one typed without marks, in folded form (every reading). A sequence
of syllables, a compound or a phrase, is found as its neighbouring pairs:
the index holds pairs rather than positions (`index.store.schema`).
"""

from dataclasses import replace

import numpy as np


def as_written(s):
    """`s` looked up exactly as typed, like a syllable typed with marks ("tai", "Tesla")."""
    return s if s.accented else replace(s, accented=True)


def pair_term(a, b):
    """Two neighbouring syllables as a pair: accented when both were typed with marks, else folded."""
    if a.accented and b.accented:
        return "pairs", f"{a.text} {b.text}"
    return "folded_pairs", f"{a.folded} {b.folded}"


def syllable_term(s):
    return ("syllables", s.text) if s.accented else ("folded", s.folded)


def form_terms(form):
    """What a sequence of syllables must contain: each neighbouring pair that no punctuation parts
    ("Văn hóa, Thể thao": "văn hóa", "thể thao", not "hóa thể"), and each syllable no pair holds as
    typed (a syllable typed with marks in a folded pair)."""
    pairs = [(i, pair_term(a, b)) for i, (a, b) in enumerate(zip(form, form[1:])) if b.joined]
    exact = {j for i, (granularity, _) in pairs if granularity == "pairs" for j in (i, i + 1)}
    paired = {j for i, _ in pairs for j in (i, i + 1)}
    return [term for _, term in pairs] + [syllable_term(s) for j, s in enumerate(form)
                                          if j not in exact and (s.accented or j not in paired)]


class Masks:
    """The articles holding each term of one query, as boolean arrays made once: the reading of the
    query, its match and its coverage all ask (never changed in place)."""

    def __init__(self, postings):
        self.postings = postings
        self._masks = {}

    def term(self, granularity, text):
        key = (granularity, text)
        if key not in self._masks:
            self._masks[key] = self.postings.mask(granularity, text)
        return self._masks[key]

    def form(self, form):
        """The articles holding a sequence of syllables (`form_terms`)."""
        mask = None
        for granularity, text in form_terms(form):
            found = self.term(granularity, text)
            mask = found if mask is None else mask & found
            if not mask.any():
                break
        return mask

    def any_form(self, forms):
        """The articles holding any of `forms`."""
        mask = np.zeros(self.postings.size, dtype=bool)
        for form in forms:
            mask |= self.form(form)
        return mask

    def count(self, form):
        return int(np.count_nonzero(self.form(form) & self.postings.live))
