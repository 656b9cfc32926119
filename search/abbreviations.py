"""Abbreviations and short forms of Vietnamese news, from the curated table in `data/abbreviations.tsv`.

A query that names one form of a set ("HĐND") matches articles written with
any form of it ("Hội đồng nhân dân"). Forms are compared as syllables, with
marks when the query has them, folded when it was typed without.
"""

from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "abbreviations.tsv"


def read_table(path=TABLE):
    """The sets of equivalent forms, each a tuple of strings as written in the table."""
    sets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sets.append(tuple(form.strip() for form in line.split("\t") if form.strip()))
    return sets


@lru_cache(maxsize=1)
def _forms():
    """{folded first syllable: [(syllables of a form, all forms of its set as syllable lists)]}, longest
    forms first."""
    from search.query import syllables

    forms = {}
    for equivalents in read_table():
        variants = [syllables(form) for form in equivalents]
        for variant in variants:
            forms.setdefault(variant[0].folded, []).append((variant, variants))
    for starting in forms.values():
        starting.sort(key=lambda f: -len(f[0]))
    return forms


def _same(typed, form):
    return all((t.text == f.text) if t.accented else (t.folded == f.folded) for t, f in zip(typed, form))


def expand(words):
    """Split query syllables into units: a Syllable, or a list of equivalent syllable sequences."""
    units = []
    i = 0
    while i < len(words):
        for form, variants in _forms().get(words[i].folded, ()):
            if len(form) <= len(words) - i and _same(words[i:i + len(form)], form):
                units.append(variants)
                i += len(form)
                break
        else:
            units.append(words[i])
            i += 1
    return units
