"""From a parsed query to Whoosh queries: what must match, and what ranks higher.

A document must contain every query syllable (accented ones exactly, ones
typed without marks in folded form). Among those, scores rise for
- the query's pyvi words found as words (the precise granularity),
- the query's syllables standing together (phrase proximity),
- for a query typed without marks, the most likely accented reading of it,
  so "dang vien" ranks "đảng viên" above "đang viện".
"""

from whoosh import query as Q

from index.schema import TEXT_FIELDS, TITLE_FIELDS
from search.abbreviations import expand

EXACT = 1  # Whoosh's slop: 1 is "next to each other"
NEAR = 3
# Weights of the boosts, tuned on XQuAD-vi dev (benchmarks/eval_xquad.py): large ones drown the
# rare syllable that identifies the right article under common words.
WORD_BOOST = 0.2
PHRASE_BOOST = 0.5
PAIR_BOOST = 0.3
READING_BOOST = 0.1
READING_PAIR_BOOST = 0.6  # "đảng viên" standing together is what "dang vien" most likely meant


def _fields(granularity):
    return TITLE_FIELDS[granularity], TEXT_FIELDS[granularity]


def syllable_clause(syllable):
    """One query syllable, in title or text: exactly as typed, or folded when typed without marks."""
    if syllable.accented:
        return Q.Or([Q.Term(f, syllable.text) for f in _fields("syllables")])
    return Q.Or([Q.Term(f, syllable.folded) for f in _fields("folded")]
                + [Q.Term(f, syllable.text, boost=0.2) for f in _fields("syllables")])


def phrase_clause(syllables, slop=EXACT, boost=1.0):
    """A sequence of syllables standing together, in title or text."""
    if len(syllables) == 1:
        return syllable_clause(syllables[0])
    if any(s.accented for s in syllables):
        clauses = [Q.Phrase(f, [s.text for s in syllables], slop=slop) for f in _fields("syllables")]
    else:
        clauses = [Q.Phrase(f, [s.folded for s in syllables], slop=slop) for f in _fields("folded")]
    return Q.Or(clauses, boost=boost)


def word_clause(word, boost=WORD_BOOST):
    """A pyvi word (e.g. "đảng_viên") in the word fields."""
    return Q.Or([Q.Term(f, word) for f in _fields("words")], boost=boost)


def unit_clause(unit):
    """A query syllable, or an abbreviation: any of its equivalent forms, each as a phrase."""
    if isinstance(unit, list):
        return Q.Or([phrase_clause(form) for form in unit])
    return syllable_clause(unit)


def required(parsed):
    """What a result must contain: every word (or an equivalent form), every phrase, none of the excluded."""
    clauses = [unit_clause(u) for u in expand(parsed.words)]
    clauses += [phrase_clause(p, slop=EXACT) for p in parsed.phrases]
    return _without(Q.And(clauses) if len(clauses) > 1 else clauses[0], parsed)


def any_word(parsed):
    """The fallback: at least one of the words (phrases still required as phrases)."""
    if not parsed.words:
        return None
    some = Q.Or([unit_clause(u) for u in expand(parsed.words)])
    if parsed.phrases:
        some = Q.And([some] + [phrase_clause(p, slop=EXACT) for p in parsed.phrases])
    return _without(some, parsed)


def _without(q, parsed):
    if not parsed.excluded:
        return q
    return Q.AndNot(q, Q.Or([phrase_clause(e, slop=EXACT) for e in parsed.excluded]))


# Question and function words: a pair of them standing together ("là gì", "đã làm") says
# nothing about which article is meant, so it earns no proximity boost.
FUNCTION_WORDS = frozenset("""
ai gì nào đâu bao nhiêu sao thế nào vì mấy là đã được của có và các những trong cho với từ một này đó khi
thì mà để bị ở về theo như hay hoặc không chưa sẽ đang cũng rất nhất
""".split())


def _telling(pair):
    return any(s.text not in FUNCTION_WORDS for s in pair)


def boosts(parsed, words, reading):
    """Optional clauses that order the matches: pyvi words, proximity, the accented reading."""
    clauses = [word_clause(w) for w in words if "_" in w]
    if len(parsed.words) > 1:
        clauses.append(phrase_clause(parsed.words, slop=NEAR, boost=PHRASE_BOOST))
        pairs = [parsed.words[i:i + 2] for i in range(len(parsed.words) - 1)]
        clauses += [phrase_clause(pair, boost=PAIR_BOOST) for pair in pairs if _telling(pair)]
    if reading:
        clauses += [Q.Or([Q.Term(f, r) for f in _fields("syllables")], boost=READING_BOOST) for r in reading]
        pairs = [reading[i:i + 2] for i in range(len(reading) - 1)]
        clauses += [Q.Or([Q.Phrase(f, pair) for f in _fields("syllables")], boost=READING_PAIR_BOOST) for pair in pairs]
    return clauses


def ranked(base, parsed, words=(), reading=()):
    """The scoring query: `base` plus the boost clauses.

    It is run filtered to the documents `base` matches, so the boosts only add
    to scores. (Whoosh's AndMaybe would say the same, but its matcher drops
    documents under the top-N collector's quality skipping.)
    """
    extra = boosts(parsed, words, reading)
    return Q.Or([base] + extra) if extra else base
