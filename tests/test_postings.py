"""A term's postings as search keeps them (`search.postings.Term`): lists summed per article; and the
posting cache (`TermCache`): within its budget, it keeps the lists searches read again, not the last ones
read once."""

from collections import Counter

import numpy as np
import pytest

from search import postings
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


@pytest.mark.parametrize("size", [400, 10 ** 6])  # lists holding many of the articles, and few
@pytest.mark.parametrize("dense_share", [0, 1 / 5, 1])
@pytest.mark.parametrize("sizes", [(90, 0, 30), (200, 90, 1, 0)])  # title and text; a folded term's readings
def test_a_terms_lists_are_summed_per_article(size, dense_share, sizes, monkeypatch):
    """Title and text, a folded term's readings: each article's frequencies (in halves) summed once, whether
    added up over the articles, merged or sorted together, and kept as postings or a byte per article."""
    monkeypatch.setattr(postings, "DENSE_SHARE", dense_share)
    rng = np.random.default_rng(3)
    lists = [(np.sort(rng.choice(min(size, 400), size=n, replace=False)).astype(np.int32),
              rng.integers(2, 40, size=n).astype(np.float32)) for n in sizes]
    expected = Counter()
    for ids, halves in lists:
        expected.update(dict(zip(ids.tolist(), halves.tolist())))
    summed = Term.summed(lists, size)
    assert (summed.ids is None) == (dense_share == 0 or (dense_share < 1 and len(expected) > dense_share * size))
    ids = np.flatnonzero(summed.halves) if summed.ids is None else summed.ids
    assert ids.tolist() == sorted(expected) and summed.df == len(expected)
    assert summed.halves[ids if summed.ids is None else slice(None)].tolist() == [expected[n] for n in sorted(expected)]
    assert Term.summed([], size).df == 0


@pytest.mark.parametrize("size", [4, 10 ** 6])  # added up over the articles, and merged
def test_a_frequency_past_what_two_bytes_hold_is_kept_at_their_most(size):
    """An article saying a term 40,000 times in its text and once in its title (80,005 halves) keeps 65,535
    (32,767.5 occurrences), in two bytes; the others, their own."""
    lists = [(np.array([1, 3], dtype=np.int32), np.array([80_000, 6], dtype=np.float32)),
             (np.array([3], dtype=np.int32), np.array([5], dtype=np.float32))]
    summed = Term.summed(lists, size)
    ids = np.flatnonzero(summed.halves) if summed.ids is None else summed.ids
    halves = summed.halves[ids] if summed.ids is None else summed.halves
    assert dict(zip(ids.tolist(), halves.tolist())) == {1: 65_535, 3: 11} and summed.halves.dtype == np.uint16


def test_lists_past_a_share_of_the_articles_are_added_up_over_them(monkeypatch):
    """SCATTER (speed only: the sums are the same either way): a folded term's lists holding many of the
    articles are added up in an array over them, a few postings among a million sorted."""
    arrays = []
    real = np.zeros

    def zeros(shape, dtype=float):
        arrays.append((shape, np.dtype(dtype)))
        return real(shape, dtype=dtype)

    monkeypatch.setattr(postings.np, "zeros", zeros)
    readings = [(np.arange(start, 10_000, 20, dtype=np.int32), np.full(500, 2, dtype=np.float32)) for start in range(3)]
    assert Term.summed(readings, 10_000).df == 1500 and (10_000, np.float32) in arrays  # 3 lists, 3/20 of them
    few = [(np.array([5, 9], dtype=np.int32), np.array([2, 4], dtype=np.float32))] * 3
    assert Term.summed(few, 10 ** 6).halves.tolist() == [6, 12] and (10 ** 6, np.float32) not in arrays
