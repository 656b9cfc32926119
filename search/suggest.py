"""Suggestions as you type: the archive's own words and titles that complete what has been typed.

Built once per commit from what the index already knows: the words' document
frequencies as `search.vocabulary` reads them (each word in its most common
accented form) and the stored titles. A prefix is compared without marks unless
it was typed with them, so `dang v` completes to "đảng viên" and `ha n` to
"Hà Nội"; the most common words come first. Words are kept sorted by their
folded form: a prefix is a range found by bisection, and its most common
entries are picked with numpy, so one letter costs about as little as a word.
"""

import re
import threading
import weakref
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.analysis.normalize import canonical, fold, has_diacritics
from search.query import clean

MAX_WORDS = 5  # a handful: more is a list to read, not a suggestion
MAX_TITLES = 3
MIN_ARTICLES = 2  # a word found in one article only is more often a typo than what a reader means
MAX_PREFIX = 100  # characters looked at
TAIL = 3  # syllables at the end of what was typed that a word may complete ("tin bong d" -> "bong d")
MIN_TAIL = 2  # letters, for an end completed apart from the words before it
MIN_TITLE_PREFIX = 2  # letters: one letter begins a word of every title
EXAMPLES = 4  # searches shown on the home page

_NOT_WORD = re.compile(r"[\W_]+")
_SYLLABLE = re.compile(r"\w+")
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass
class Suggestion:
    text: str
    kind: str  # "word" or "title"
    articles: int = None  # for a word: how many articles hold it
    id: str = None  # for a title: its article

    def as_dict(self):
        return {k: v for k, v in vars(self).items() if v is not None}


def _key(text):
    """The form prefixes are compared in: folded, lower-case, words separated by one space."""
    return " ".join(_NOT_WORD.sub(" ", fold(canonical(text))).split())


def _marked_key(text):
    """As `_key`, marks kept: what a prefix typed with marks is compared with."""
    return " ".join(_NOT_WORD.sub(" ", canonical(text)).split())


def _glued_to_a_name(word, names):
    """Whether `word` is a name of two syllables or more with what follows it glued on ("hà_nội_tại"):
    pyvi's mistake, never what a reader is typing. A name that goes on ("hà_nội_mới") is a name itself."""
    parts = word.split("_")
    return word not in names and any("_".join(parts[:n]) in names for n in range(2, len(parts)))


class _Titles:
    """Titles' keys in one string, each after a space: finding the titles with a word that starts with a
    prefix is a str.find, in C, however many titles there are."""

    def __init__(self, keys):
        keys = [" " + key + "\n" for key in keys]
        self._starts = np.cumsum([0] + [len(k) for k in keys], dtype=np.int64)
        self._text = "".join(keys)

    def having(self, prefix):
        """The numbers of the titles holding a word that starts with `prefix`, in order."""
        needle = " " + prefix
        at = self._text.find(needle)
        while at >= 0:
            n = int(np.searchsorted(self._starts, at, side="right")) - 1
            yield n
            at = self._text.find(needle, int(self._starts[n + 1]))


def _read_titles(titles, words):
    """What titles say about words: ({"hà_nội": "Hà Nội"}, the words written capitalised inside titles more
    often than not, and Counter of the archive's compounds (`words`) as often as titles use them.

    The index keeps words in lower case; titles show how names are written. A
    title's first word is capitalised whatever it is (and so is one after a colon),
    so it is not counted; no word spans punctuation.
    """
    lower = {}  # syllable as written -> as indexed, computed once per spelling

    def indexed(syllable):
        found = lower.get(syllable)
        if found is None:
            found = lower[syllable] = canonical(syllable)
        return found

    capitalised, lowered, compounds = Counter(), Counter(), Counter()
    read = []
    for part in (part for title in titles for part in _PUNCTUATION.split(title)):
        syllables = _SYLLABLE.findall(part)
        keys = [indexed(s) for s in syllables]
        read.append((syllables, keys))
        for i in range(1, len(syllables)):
            for n in range(1, 4):
                gram = syllables[i:i + n]
                if len(gram) < n or not (gram[-1][0].isupper() and not gram[-1].isupper()):
                    break
                capitalised["_".join(keys[i:i + n]), " ".join(gram)] += 1
    names = {}
    for (word, written), count in capitalised.most_common():
        names.setdefault(word, (written, count))
    starts = {word.split("_", 1)[0] for word in names}
    for syllables, keys in read:
        for i, key in enumerate(keys):
            if not syllables[i][0].islower():
                continue
            for n in range(2, min(4, len(keys) - i + 1)):
                word = "_".join(keys[i:i + n])
                if word in words:
                    compounds[word] += 1
            if key in starts:
                for n in range(1, 4):
                    word = "_".join(keys[i:i + n])
                    if word in names:
                        lowered[word] += 1
    names = {word: (written, count) for word, (written, count) in names.items() if count > lowered[word]}
    return names, compounds


def _examples(names, compounds, words, count=EXAMPLES):
    """Searches to show a first visitor, from the archive itself: the words its titles use most (one of
    them typed without marks, as many readers type) and the names they write most."""
    common = [w for w, _ in compounds.most_common() if words.get(w, 0) >= MIN_ARTICLES][:count]
    people = [written for written, _ in sorted(names.values(), key=lambda wc: -wc[1]) if " " in written][:count]
    chosen = [common[0].replace("_", " ")] if common else []
    if len(common) > 1:
        chosen.append(fold(common[1].replace("_", " ")))
    for text in people + [w.replace("_", " ") for w in common[2:]]:
        if len(chosen) == count:
            break
        if text not in chosen:
            chosen.append(text)
    return chosen


class Suggester:
    """What one commit suggests; shared by every thread (it keeps no reader).

    `words` is {word as indexed ("đảng_viên"): articles holding it}; `titles` is
    [(article id, title)], newest first.
    """

    def __init__(self, words, titles):
        titles = [(article_id, title) for article_id, title in titles if title]
        names, compounds = _read_titles((title for _, title in titles), words)
        self.examples = _examples(names, compounds, words)
        names = {word: written for word, (written, _) in names.items()}
        entries = sorted((_key(word), names.get(word) or word.replace("_", " "), count)
                         for word, count in words.items()
                         if count >= MIN_ARTICLES and _key(word) and not _glued_to_a_name(word, names))
        self._keys = [key for key, _, _ in entries]
        self._texts = [text for _, text, _ in entries]
        self._counts = np.array([count for _, _, count in entries], dtype=np.int64)
        self._titles = titles
        self._folded_titles = _Titles([_key(title) for _, title in titles])
        self._marked_titles = _Titles([_marked_key(title) for _, title in titles])

    def _words(self, prefix, limit):
        """The most common words whose key starts with `prefix`'s (and its marks, if typed with them)."""
        key = _key(prefix) + (" " if prefix[-1:].isspace() else "")
        if not key.strip():
            return []
        lo = bisect_left(self._keys, key)
        hi = bisect_left(self._keys, key + "\U0010ffff", lo)
        counts = self._counts[lo:hi]
        marked = canonical(prefix.strip()) if has_diacritics(prefix) else None
        wanted = limit if marked is None else limit * 10
        order = np.arange(len(counts))
        if len(counts) > wanted:  # the most common few of a long range, without sorting all of it
            order = np.argpartition(-counts, wanted)[:wanted]
        order = order[np.lexsort((order, -counts[order]))]
        found = []
        for i in order:
            text = self._texts[lo + i]
            if marked is None or canonical(text).startswith(marked):
                found.append(Suggestion(text, "word", articles=int(counts[i])))
                if len(found) == limit:
                    break
        return found

    def _titles_with(self, prefix, limit):
        """The newest titles holding a word that starts with `prefix`."""
        key = _key(prefix)
        if len(key) < MIN_TITLE_PREFIX:
            return []
        end = " " if prefix[-1:].isspace() else ""
        if has_diacritics(prefix):
            titles = self._marked_titles.having(_marked_key(prefix) + end)
        else:
            titles = self._folded_titles.having(key + end)
        found = []
        for n in titles:
            article_id, title = self._titles[n]
            if all(title != f.text for f in found):
                found.append(Suggestion(title, "title", id=article_id))  # a syndicated title once
                if len(found) == limit:
                    break
        return found

    def suggest(self, typed, words=MAX_WORDS, titles=MAX_TITLES):
        """[Suggestion]: words completing the end of `typed` (what comes before kept as typed), then titles."""
        text = clean(typed[:MAX_PREFIX])[0] + (" " if typed[:MAX_PREFIX][-1:].isspace() else "")
        if not text.strip():
            return []
        syllables = text.split(" ")
        found = []
        for start in range(max(0, len(syllables) - TAIL - (syllables[-1] == "")), len(syllables)):
            tail = " ".join(syllables[start:])
            if start and len(_key(tail)) < MIN_TAIL:
                break  # "ha n": "n" alone after a word is anything; "hà" then "năm" is not what was meant
            found = self._words(tail, words)
            if found:
                head = " ".join(syllables[:start])
                for suggestion in found:
                    suggestion.text = f"{head} {suggestion.text}" if head else suggestion.text
                break
        return found + self._titles_with(text, titles)


_SUGGESTERS = weakref.WeakKeyDictionary()  # one per commit, gone with it
_BUILDING = threading.Lock()


def suggester(engine):
    """The Suggester of the engine's last commit, built on first use (about a second on 35,000 articles)."""
    searcher, commit = engine.current()
    found = _SUGGESTERS.get(commit)
    if found is None:
        with _BUILDING:
            found = _SUGGESTERS.get(commit)
            if found is None:
                reader = searcher.reader()
                vocabulary = commit.vocabulary(reader)
                # each article's fields dropped as soon as read: all of them at once held 300 MB on baomoi
                titles = sorted(((f.get("published") or "", f["id"], f.get("title"))
                                 for f in commit.stored.live(reader)), reverse=True)
                found = _SUGGESTERS[commit] = Suggester(dict(forms[0] for forms in vocabulary.words.values()),
                                                        [(article_id, title) for _, article_id, title in titles])
    return found
