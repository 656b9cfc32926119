"""From a parsed query to which articles match and how they rank, as array operations.

An article must contain every query syllable (accented ones exactly, ones
typed without marks in folded form), or for a long query (a question) enough
of them, and every quoted phrase; a phrase, or an
abbreviation's long form, is found as its neighbouring syllable pairs. Among
the matches, scores are sums of BM25F (title and text as one, the title
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
"""

from dataclasses import replace

import numpy as np

from index.analysis.normalize import fold
from search.abbreviations import expand
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
# A query of this many syllables or more is a question or a pasted sentence, not keywords: the
# article that answers it seldom repeats every word, while long articles hold them all by chance.
# It matches the articles holding at least MIN_SHARE of it (by idf), like a search engine's
# "minimum should match", rather than every word.
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
_FOLDED_FUNCTION = frozenset(fold(w) for w in FUNCTION_WORDS)


def marked_syllables(parsed):
    """The query's syllables worth marking in a snippet. In a long query (a question), its function
    words ("của", "được", "các") stand in every sentence and say nothing: marked, they bury the
    words that tell. Quoted phrases are marked whole."""
    words = parsed.words
    if len(words) >= LONG_QUERY:
        words = [s for s in words if s.text not in FUNCTION_WORDS
                 and (s.accented or s.folded not in _FOLDED_FUNCTION)] or words
    return words + [s for p in parsed.phrases for s in p]


def pair_term(a, b):
    """Two neighbouring syllables as a pair: accented when both were typed with marks, else folded."""
    if a.accented and b.accented:
        return "pairs", f"{a.text} {b.text}"
    return "folded_pairs", f"{a.folded} {b.folded}"


def syllable_term(s):
    return ("syllables", s.text) if s.accented else ("folded", s.folded)


def form_terms(form):
    """What a sequence of syllables must contain: a syllable alone, or every neighbouring pair
    (and the syllables typed with marks, exactly)."""
    if len(form) == 1:
        return [syllable_term(form[0])]
    return [pair_term(a, b) for a, b in zip(form, form[1:])] + [("syllables", s.text) for s in form if s.accented]


def _as_written(s):
    """`s` looked up exactly as typed, like a syllable typed with marks."""
    return s if s.accented else replace(s, accented=True)


def _telling(pair):
    return any(s.text not in FUNCTION_WORDS for s in pair)


class Ranking:
    """One query against one commit: which articles match, and every article's score."""

    def __init__(self, postings, reader, parsed, words=(), reading=()):
        self.postings, self.reader, self.parsed = postings, reader, parsed
        self.units = expand(parsed.words)
        # In a query typed with marks, a syllable without any is a name, a foreign word or meant bare
        # ("Tesla", "Broncos"): scored as written at full weight, not as any accented reading at a
        # folded match's lower weight. It still matches any reading (a mark forgotten).
        self.scored_words = parsed.words if parsed.folded else [_as_written(s) for s in parsed.words]
        self.scored_units = self.units if parsed.folded else expand(self.scored_words)
        self.words = [w for w in words if "_" in w]
        # A compound's syllables share the weight of one word, the weight a word of one syllable has:
        # at full weight each, "thí nghiệm" counted twice as much as the rare name "Dewar" beside it.
        self._compound_size = {}
        for word in words:
            parts = word.split("_")
            for part in parts:
                self._compound_size[part] = min(self._compound_size.get(part, len(parts)), len(parts))
        self.reading = list(reading)
        self.fallback = False
        self._coverage = None
        self._masks = {}

    # matching

    def _has(self, granularity, text):
        """The articles holding a term, made once per query: matching and coverage both ask (never
        changed in place)."""
        key = (granularity, text)
        if key not in self._masks:
            self._masks[key] = self.postings.mask(self.reader, granularity, text)
        return self._masks[key]

    def _form_mask(self, form):
        mask = None
        for granularity, text in form_terms(form):
            found = self._has(granularity, text)
            mask = found if mask is None else mask & found
            if not mask.any():
                break
        return mask

    def _unit_mask(self, unit):
        if not isinstance(unit, list):
            return self._form_mask([unit])
        mask = np.zeros(self.postings.size, dtype=bool)
        for form in unit:
            mask |= self._form_mask(form)
        return mask

    def matches(self, allowed=None):
        """The matching articles as a boolean array: every unit (or, for a long query, enough of
        it), else (the fallback) any of them; quoted phrases always.

        `allowed` (a boolean array: filters, live articles) bounds the result.
        """
        mask = self.postings.live if allowed is None else allowed & self.postings.live
        for phrase in self.parsed.phrases:
            mask = mask & self._form_mask(phrase)
        if len(self.units) >= LONG_QUERY:
            matched = mask & (self.coverage() >= MIN_SHARE)
        else:
            matched = mask
            for unit in self.units:
                matched = matched & self._unit_mask(unit)
        if not matched.any() and len(self.units) > 1:
            some = np.zeros(self.postings.size, dtype=bool)
            for unit in self.units:
                some |= self._unit_mask(unit)
            matched = mask & some
            self.fallback = bool(matched.any())
        for excluded in self.parsed.excluded:
            matched &= ~self._form_mask(excluded)
        return matched

    # scoring

    def _add(self, scores, granularity, text, weight):
        self.postings.add_scores(scores, self.reader, granularity, text, weight)

    def _scored(self, unit):
        if len(self.parsed.words) < 3 or isinstance(unit, list):
            return True
        return (unit.text not in QUESTION_WORDS) if unit.accented else (unit.folded not in _FOLDED_QUESTION)

    def coverage(self):
        """The share of the query's distinct syllables (weighted by idf) each article holds."""
        if self._coverage is None:
            self._coverage = self._held()
        return self._coverage

    def _held(self):
        held = np.zeros(self.postings.size, dtype=np.float32)
        total = 0.0
        for granularity, text in dict.fromkeys(syllable_term(u) for u in self.scored_units
                                               if not isinstance(u, list) and self._scored(u)):
            mask = self._has(granularity, text)
            weight = inverse_frequency(self.postings.count, int(mask.sum()))
            held += weight * mask
            total += weight
        return held / total if total else np.ones(self.postings.size, dtype=np.float32)

    def scores(self):
        """Every article's score (an array; only the matching ones mean anything).

        Each distinct term counts once: a question that repeats a word ("trận đấu ... trận đấu") asks
        for it no more, and counted twice it ranked the sentences that repeat it above the answer.
        """
        scores = np.zeros(self.postings.size, dtype=np.float32)
        for unit in _distinct(self.scored_units):
            if not self._scored(unit):
                continue
            forms = unit if isinstance(unit, list) else [[unit]]
            share = 1.0 if isinstance(unit, list) else 1.0 / self._compound_size.get(unit.text, 1)
            for form in forms:
                for granularity, text in form_terms(form):
                    self._add(scores, granularity, text, share * (FOLDED if granularity == "folded" else 1.0))
            if not isinstance(unit, list) and not unit.accented:
                self._add(scores, "syllables", unit.text, FOLDED_LITERAL)
        for phrase in self.parsed.phrases:
            for granularity, text in form_terms(phrase):
                self._add(scores, granularity, text, 1.0)
        for word in dict.fromkeys(self.words):
            self._add(scores, "words", word, WORD)
        free = self.scored_words
        for term in dict.fromkeys(pair_term(*pair) for pair in zip(free, free[1:]) if _telling(pair)):
            self._add(scores, *term, PAIR)
        for syllable in dict.fromkeys(self.reading):
            self._add(scores, "syllables", syllable, READING)
        for a, b in dict.fromkeys(zip(self.reading, self.reading[1:])):
            self._add(scores, "pairs", f"{a} {b}", READING_PAIR)
        return scores * self.coverage() ** COVERAGE


def _distinct(units):
    """`units` without repeats (an abbreviation's forms, a list, stay a unit of their own)."""
    seen = set()
    for unit in units:
        if isinstance(unit, list):
            yield unit
        elif unit not in seen:
            seen.add(unit)
            yield unit


def top(mask, scores, count):
    """The `count` best article numbers among `mask`, by score, then by article number."""
    ids = np.flatnonzero(mask)
    if len(ids) > count:
        chosen = scores[ids]
        threshold = np.partition(chosen, len(ids) - count)[len(ids) - count]
        ids = ids[chosen >= threshold]
    order = np.lexsort((ids, -scores[ids]))
    return ids[order][:count]


def by_date(mask, dates, dated, count, newest):
    """The first `count` article numbers among `mask` by date (undated ones last), then by number."""
    ids = np.flatnonzero(mask)
    keys = dates[ids] if not newest else -dates[ids]
    order = np.lexsort((ids, keys, ~dated[ids]))
    return ids[order][:count]
