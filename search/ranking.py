"""From a query's meaning to which articles match and how they rank, as array operations.

An article must hold every word of the query as `search.meaning` reads it (a
compound where its syllables stand together), or for a long query (a
question) enough of its syllables, and every quoted phrase. Among the
matches, scores are sums of BM25F (title and text as one, the title
weighted, see `search.postings`) of
- the query's syllables (the robust granularity), those of a compound sharing
  one word's weight,
- the query's pyvi words found as words (the precise granularity),
- neighbouring query syllables found together (phrase proximity, as pairs),
- for a query typed without marks, the most likely accented reading of it,
  so "dang vien" ranks "đảng viên" above "đang viện";
- in a query typed with marks, a syllable typed without them ("Tesla", "con")
  as written, not as any of its accented readings (which only match it);
and the sum is scaled by the share of the query (by idf) an article holds, so
one that has every rare word beats one with many common ones.

How many match (and the facets) is counted from masks of article numbers,
without scoring; a selective query's matches are scored one by one, not over
arrays the size of the index; of many matches in a large index, the terms most
articles hold are added only for those whose other terms may yet take them
among the best (`Ranking.best`).
"""

from functools import cached_property

import numpy as np

from index.analysis.normalize import fold
from search.abbreviations import expand
from search.matching import as_written, form_terms, pair_term, syllable_term
from search.postings import inverse_frequency

# Weights, tuned on XQuAD-vi dev (benchmarks/eval_xquad.py): large boosts drown the
# rare syllable that identifies the right article under common words.
FOLDED = 0.5  # a syllable typed without marks, found in folded form: any of its accented readings
FOLDED_LITERAL = 0.2  # "dang" typed, "dang" written: a weak hint, most accented readings differ
WORD = 0.6  # a compound found as a word, beside its syllables (which share one word's weight)
PAIR = 0.3
READING = 0.5  # ... found as its most likely reading: with FOLDED, the weight of an accented syllable
READING_PAIR = 0.6  # "đảng viên" standing together is what "dang vien" most likely meant
COVERAGE = 0.5  # exponent of the share of the query an article holds
# Matches beyond this share (1 / WHOLE_ARRAYS) of the index are scored by sums over whole arrays rather
# than looked up one by one (measured with benchmarks/bench_query.py: 1 or 10**6 cost 10-25% more CPU on
# 35,000 articles).
WHOLE_ARRAYS = 8
# From this many articles, many matches are summed over whole arrays without the common terms, which are added
# for the contenders alone (`Ranking.best`): below it, summing them too costs no more (the two broke even on
# 35,432 articles; on 104,586, a slow question's ranking went from 3.6 to 3.0 ms). Speed only: the same best.
CONTENDERS_FROM = 50_000
SAMPLE = 16  # `top` bounds the count-th best score from every SAMPLE-th (speed only: the same best either way)
# A query of this many words (`search.meaning`: a compound counts once) or more is a question or a
# pasted sentence, not keywords: the article that answers it seldom repeats every word, while long
# articles hold them all by chance. It matches the articles holding at least MIN_SHARE of it (by
# idf), like a search engine's "minimum should match", rather than every word.
LONG_QUERY = 5
MIN_SHARE = 0.2

# Question words: in a question they ask, in an article they are chance ("nào", "gì"), so a
# question of several words is not scored on them.
QUESTION_WORDS = frozenset("ai gì nào đâu bao nhiêu sao mấy".split())
# Question and function words: a pair of them standing together ("là gì", "đã làm") says
# nothing about which article is meant, so it earns no proximity boost.
FUNCTION_WORDS = frozenset("""
ai gì nào đâu bao nhiêu sao thế nào vì mấy là đã được của có và các những trong cho với từ một này đó khi
thì mà để bị ở về theo như hay hoặc không chưa sẽ đang cũng rất nhất
""".split())


_FOLDED_QUESTION = frozenset(fold(w) for w in QUESTION_WORDS)


def _telling(pair):
    return any(s.text not in FUNCTION_WORDS for s in pair)


class Ranking:
    """One query (its `search.meaning.Meaning`) against one commit: which articles match, and every
    article's score."""

    def __init__(self, postings, reader, meaning):
        self.postings, self.reader, self.meaning, self.masks = postings, reader, meaning, meaning.masks
        self.units = meaning.units
        # In a query typed with marks, a syllable without any is a name, a foreign word or meant bare
        # ("Tesla", "Broncos"): scored as written at full weight, not as any accented reading at a
        # folded match's lower weight.
        self.scored_words = meaning.words if meaning.folded else [as_written(s) for s in meaning.words]
        self.scored_units = self.units if meaning.folded else expand(self.scored_words)
        words = meaning.pyvi_words
        self.words = [w for w in words if "_" in w]
        # A compound's syllables share the weight of one word, the weight a word of one syllable has:
        # at full weight each, "thí nghiệm" counted twice as much as the rare name "Dewar" beside it.
        self._compound_size = {}
        for word in words:
            parts = word.split("_")
            for part in parts:
                self._compound_size[part] = min(self._compound_size.get(part, len(parts)), len(parts))
        self.reading = meaning.reading
        self.loosened = False  # no article had the words as read: these have them apart or in other readings
        self.fallback = False  # no article had every word: these have some of them
        self._coverage = None

    # matching

    def _unit_mask(self, unit):
        return self.masks.any_form(unit) if isinstance(unit, list) else self.masks.form([unit])

    def matches(self, allowed=None):
        """The matching articles as a boolean array: every part of the query as read (`search.meaning`),
        or for a long query enough of it; else (loosened) every syllable anywhere in any reading; else
        (the fallback) any of them; quoted phrases always, exclusions never.

        `allowed` (a boolean array: filters, live articles) bounds the result.
        """
        self.postings.read_together([(granularity, text) for granularity, text, _ in self.terms])
        mask = self.postings.live if allowed is None else allowed & self.postings.live
        for phrase in self.meaning.phrases:
            mask = mask & self.masks.form(phrase)
        if self.meaning.question:
            matched = mask & (self.coverage() >= MIN_SHARE)
        else:
            matched = mask & self.meaning.strict()
            if not matched.any():
                loose = mask
                for unit in self.units:
                    loose = loose & self._unit_mask(unit)
                matched = loose
                self.loosened = bool(loose.any())
        if not matched.any() and len(self.units) > 1:
            some = np.zeros(self.postings.size, dtype=bool)
            for unit in self.units:
                some |= self._unit_mask(unit)
            matched = mask & some
            self.fallback = bool(matched.any())
        for excluded in self.meaning.excluded:
            matched &= ~self.masks.form(excluded)
        return matched

    # scoring

    def _scored(self, unit):
        if len(self.meaning.words) < 3 or isinstance(unit, list):
            return True
        return (unit.text not in QUESTION_WORDS) if unit.accented else (unit.folded not in _FOLDED_QUESTION)

    def coverage(self, articles=slice(None)):
        """The share of the query's distinct syllables and abbreviations (weighted by idf) each article
        holds (of `articles` only, when given and not already known for all: the same values)."""
        if self._coverage is not None:
            return self._coverage[articles]
        found = self._held(articles)
        if isinstance(articles, slice):
            self._coverage = found
        return found

    def _held(self, articles):
        """`coverage` computed. Over every article, a syllable's weight is added at its postings, not over a mask
        of every article (a rare syllable: ten times less work at 104,586 articles), and the same floats."""
        held = np.zeros(self.postings.size, dtype=np.float32)[articles]
        every = isinstance(articles, slice)  # (`coverage`'s slice(None))
        total = 0.0
        for unit in _distinct(self.scored_units):
            if not self._scored(unit):
                continue
            if every and not isinstance(unit, list):
                granularity, text = syllable_term(unit)
                weight = inverse_frequency(self.postings.count, self.postings.frequency(granularity, text))
                self.postings.add_where_held(held, granularity, text, np.float32(weight))
            else:
                mask = self._unit_mask(unit)
                weight = inverse_frequency(self.postings.count, np.count_nonzero(mask))
                held += np.float32(weight) * mask[articles]  # float32: a Python float made the products float64
            total += weight
        return held / total if total else np.ones(len(held), dtype=np.float32)

    def _terms(self):
        """The query's scored terms, (granularity, text, weight), in the order their scores are summed.

        Each distinct term counts once: a question that repeats a word ("trận đấu ... trận đấu") asks
        for it no more, and counted twice it ranked the sentences that repeat it above the answer.
        """
        for unit in _distinct(self.scored_units):
            if not self._scored(unit):
                continue
            forms = unit if isinstance(unit, list) else [[unit]]
            share = 1.0 if isinstance(unit, list) else 1.0 / self._compound_size.get(unit.text, 1)
            for form in forms:
                for granularity, text in form_terms(form):
                    yield granularity, text, share * (FOLDED if granularity == "folded" else 1.0)
            if not isinstance(unit, list) and not unit.accented:
                yield "syllables", unit.text, FOLDED_LITERAL
        for phrase in self.meaning.phrases:
            for granularity, text in form_terms(phrase):
                yield granularity, text, 1.0
        for word in dict.fromkeys(self.words):
            yield "words", word, WORD
        free = self.scored_words
        pairs = [pair for pair in zip(free, free[1:]) if pair[1].joined and _telling(pair)]
        for term in dict.fromkeys(pair_term(*pair) for pair in pairs):
            yield *term, PAIR
        for syllable in dict.fromkeys(self.reading):
            yield "syllables", syllable, READING
        for a, b in dict.fromkeys(zip(self.reading, self.reading[1:])):
            yield "pairs", f"{a} {b}", READING_PAIR

    @cached_property
    def terms(self):
        """`_terms()`, listed once: matching reads them together, ranking sums their scores."""
        return list(self._terms())

    @cached_property
    def _summed_terms(self):
        """`terms` in the order their scores are summed: the rarest first (by how many articles hold them), so
        that those kept a byte per article (`search.postings.Term`) come last, to be added for a few articles
        alone (`best`)."""
        held_by = {(granularity, text): self.postings.frequency(granularity, text) for granularity, text, _ in self.terms}
        return sorted(self.terms, key=lambda term: held_by[term[:2]])

    def _add_scores(self, sums, articles, terms, positions=None):
        """Add the scores of `terms` to `sums`, over `articles` (ascending article numbers); `positions`: theirs
        (`Postings.positions`), for terms kept as postings."""
        for granularity, text, weight in terms:
            sums += self.postings.scores_at(self.reader, granularity, text, articles, weight, positions)
        return sums

    def scores_of(self, articles):
        """The scores of `articles` (ascending article numbers), computed for them alone: the same sums in the same
        order whichever articles are scored."""
        sums = self._add_scores(np.zeros(len(articles), dtype=np.float32), articles, self._summed_terms,
                                self.postings.positions(articles))
        return sums * self.coverage(articles) ** COVERAGE

    def scores_in(self, articles):
        """The scores of `articles` in the order given (hits sorted by date)."""
        ascending = np.sort(articles)
        return self.scores_of(ascending)[np.searchsorted(ascending, articles)]

    def best(self, matched, count):
        """The `count` best articles of `matched` (a boolean array) by score, then by number, and their
        scores. Few matches are scored one by one (`scores_of`); more than a share of the index, by sums
        over whole arrays, as cheap per article and without searching, of every term but the common ones,
        which are then added for the contenders alone (`_contenders`; kept a byte per article, they need no
        map of positions): the same scores either way.
        """
        articles = np.flatnonzero(matched)
        if len(articles) * WHOLE_ARRAYS <= self.postings.size:
            return top(articles, self.scores_of(articles), count)
        terms = self._summed_terms
        common = len(terms) if self.postings.size < CONTENDERS_FROM else next(
            (i for i, (granularity, text, _) in enumerate(terms) if self.postings.kept_dense(granularity, text)), len(terms))
        sums = np.zeros(self.postings.size, dtype=np.float32)
        for granularity, text, weight in terms[:common]:
            self.postings.add_scores(sums, self.reader, granularity, text, weight)
        sums, factors = sums[articles], self.coverage(articles) ** COVERAGE
        if common < len(terms) and len(articles) > count > 0:
            kept = self._contenders(sums, factors, articles, terms, common, count)
            articles, sums, factors = articles[kept], sums[kept], factors[kept]
        return top(articles, self._add_scores(sums, articles, terms[common:]) * factors, count)

    def _contenders(self, sums, factors, articles, terms, common, count):
        """Which of `articles` may be among the `count` best (their positions): those whose sum of the rarer
        terms' scores (`sums`, the terms up to `common`) plus the most the common ones could add, times their
        coverage factor (`factors`), reaches the count-th best of the sums alone so scaled (which is no more than
        the count-th best score).

        The most a common term adds is its ceiling (`Postings.ceiling`): first in every article, then where it
        is held, in the articles left. A syllable's readings and the syllable as typed count where its folded
        form is held, when the query reads that: one lookup for them all. A float32 sum may round up by half an
        epsilon an addition: the ceilings are raised by twice an epsilon a term.
        """
        floor = top(articles, sums * factors, count)[1][-1]
        read = {(granularity, text) for granularity, text, _ in terms}
        ceilings = {}
        for granularity, text, weight in terms[common:]:
            folded = ("folded", fold(text))
            held_with = folded if granularity in ("syllables", "folded") and folded in read else (granularity, text)
            ceilings[held_with] = ceilings.get(held_with, 0.0) + float(self.postings.ceiling(granularity, text, weight))
        rounding = np.float32(1 + 2 * len(terms) * np.finfo(np.float32).eps)
        kept = np.flatnonzero((sums + np.float32(sum(ceilings.values()))) * rounding * factors >= floor)
        most = np.zeros(len(kept), dtype=np.float32)
        for (granularity, text), ceiling in ceilings.items():
            most += np.float32(ceiling) * self.postings.held(granularity, text, articles[kept])
        return kept[(sums[kept] + most) * rounding * factors[kept] >= floor]


def top(articles, scores, count):
    """The `count` best of `articles` (ascending numbers) by their `scores`, then by number, and their
    scores, best first; only those at or above the count-th score are sorted.

    That score is found among those at or above the count-th best of every SAMPLE-th score (the count-th
    best of some scores is never above that of all): a selection over a fraction of them rather than over
    all (50,000 scores: 355 -> 45 µs).
    """
    for every in (SAMPLE, 1):
        sample = scores[::every]
        if len(articles) > count and len(sample) >= count:
            keep = scores >= np.partition(sample, len(sample) - count)[len(sample) - count]
            articles, scores = articles[keep], scores[keep]
    order = np.lexsort((articles, -scores))[:count]
    return articles[order], scores[order]


def _distinct(units):
    """`units` without repeats (an abbreviation's forms, a list, stay a unit of their own)."""
    seen = set()
    for unit in units:
        if isinstance(unit, list):
            yield unit
        elif unit not in seen:
            seen.add(unit)
            yield unit


def by_date(mask, dates, dated, count, newest):
    """The first `count` article numbers among `mask` by date (undated ones last), then by number."""
    ids = np.flatnonzero(mask)
    keys = dates[ids] if not newest else -dates[ids]
    order = np.lexsort((ids, keys, ~dated[ids]))
    return ids[order][:count]
