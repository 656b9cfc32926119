"""The posting cache (`search.postings.TermCache`): within its budget, it keeps the lists searches read
again, not the last ones read once."""

import numpy as np

from search.postings import PROTECTED, Term, TermCache


def term(size):
    return Term(None, np.ones(size, dtype=np.uint8), size)


def test_the_cache_never_holds_more_than_its_budget():
    cache = TermCache(10_000)
    for i in range(100):
        cache.put(("syllables", f"t{i}"), term(700 + 13 * i), protected=i % 3 == 0)
        cache.get(("syllables", f"t{i // 2}"))
        assert cache.bytes <= 10_000 and cache.protected_bytes <= PROTECTED * 10_000
    assert cache.bytes == sum(t.nbytes for t in (cache.get(("syllables", f"t{i}")) for i in range(100)) if t)


def test_a_list_read_again_outlives_many_read_once():
    """A common syllable every query reads survives the pairs each query reads once (a plain LRU dropped it
    as soon as a budget's worth of them had come by)."""
    cache = TermCache(10_000)
    common = ("folded", "nhan")
    cache.put(common, term(4_000))
    assert cache.get(common) is not None  # used again: kept as such
    for i in range(50):
        cache.put(("pairs", f"p{i}"), term(1_000))
    assert cache.get(common) is not None
    assert cache.get(("pairs", "p0")) is None and cache.get(("pairs", "p49")) is not None


def test_lists_read_ahead_are_kept_as_if_read_again():
    cache = TermCache(10_000)
    cache.put(("syllables", "của"), term(3_000), protected=True)
    for i in range(50):
        cache.put(("pairs", f"p{i}"), term(1_000))
    assert cache.get(("syllables", "của")) is not None


def test_a_list_larger_than_the_budget_is_kept_alone():
    cache = TermCache(1_000)
    cache.put(("pairs", "a"), term(500))
    cache.put(("folded", "b"), term(5_000))
    assert cache.get(("pairs", "a")) is None and cache.get(("folded", "b")) is not None
