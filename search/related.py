"""Related articles ("more like this"): other articles that share what makes an article distinctive.

The article's own words (pyvi's, so compounds: "bóng_đá", rarer and weightier
than "bóng") are weighed by how rare they are in the archive (tf-idf); its most
distinctive words are searched for together with the same BM25F scores as a
query's, and articles from the same province or close in date are preferred. The article itself never comes back, and a story
syndicated under the same title is shown once.
"""

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.analysis.analyzers import WordAnalyzer, terms
from index.analysis.normalize import fold
from index.store.schema import NO_VALUE
from search.postings import inverse_frequency
from search.ranking import top

MAX_RELATED = 5
TERMS = 15  # the article's most distinctive words searched for
TITLE_REPEAT = 2  # the title's words counted again: they say what the article is about
PLACE = 0.3  # score bonus for the same province
DATE = 0.3  # score bonus for the same day, halved at NEARBY_DAYS apart
NEARBY_DAYS = 30
CANDIDATES = 50  # best-scored articles looked at for near-duplicates

_WORDS = WordAnalyzer()
_DAY = 86_400_000_000  # Whoosh dates are microseconds


@dataclass
class Related:
    id: str
    title: str
    date: str
    source: str
    province: str

    def as_dict(self):
        return dict(vars(self))


def distinctive(postings, fields, count=TERMS):
    """[(word, weight)]: the article's `count` words with the highest tf-idf (a compound, rarer than its
    syllables, weighs more by its idf alone)."""
    title = fields.get("title") or ""
    text = "\n\n".join(t for t in (title, fields.get("lead"), fields.get("body")) if t)
    frequency = Counter(terms(_WORDS, text))
    for word in terms(_WORDS, title):
        frequency[word] += TITLE_REPEAT - 1
    weighed = []
    for word, tf in frequency.items():
        if not any(c.isalpha() for c in word):
            continue
        df = postings.frequency("words", word)
        if df < 2:
            continue  # no other article has it (common words weigh little by their idf)
        weight = math.sqrt(tf) * inverse_frequency(postings.count, df)
        weighed.append((weight, word))
    weighed.sort(reverse=True)
    return [(word, weight) for weight, word in weighed[:count]]


def _same_story(fields):
    """What a syndicated copy shares: the title, folded (or the text's start, for an untitled article)."""
    title = fields.get("title") or ""
    text = title if title.strip() else (fields.get("lead") or fields.get("body") or "")[:200]
    return " ".join(fold(text).lower().split())


def related(engine, article_id, limit=MAX_RELATED):
    """Up to `limit` Related articles for the stored article `article_id`, best first; None if unknown."""
    searcher, commit = engine.current()
    docnum = searcher.document_number(id=article_id)
    if docnum is None:
        return None
    reader = searcher.reader()
    postings = commit.postings
    fields = commit.stored.fields(docnum)
    scores = np.zeros(postings.size, dtype=np.float32)
    for word, weight in distinctive(postings, fields):
        postings.add_scores(scores, reader, "words", word, weight)
    scores *= postings.live
    scores[docnum] = 0
    province = commit.columns.codes["province"]
    if commit.columns.labels["province"][province[docnum]] != NO_VALUE:
        scores *= 1 + PLACE * (province == province[docnum])
    dates = commit.dates
    if dates.dated[docnum]:
        days = np.abs(dates.values - dates.values[docnum]) / _DAY
        scores *= 1 + DATE * dates.dated * NEARBY_DAYS / (NEARBY_DAYS + days)
    found, seen = [], set()
    candidates = np.flatnonzero(scores > 0)
    for n in top(candidates, scores[candidates], CANDIDATES)[0]:
        other = commit.stored.fields(int(n))
        story = _same_story(other)
        if story in seen:
            continue
        seen.add(story)
        province_name = other.get("province")
        found.append(Related(other["id"], other.get("title") or "", other.get("published"), other.get("source"),
                             None if not province_name or province_name == NO_VALUE else province_name))
        if len(found) == limit:
            break
    return found
