"""What a keyword query means: its words found as words, each read as the reader most likely meant it.

Decided once per query and used alike for the match set (so for the total and
every facet count), the ranking's reading of a query typed without marks, the
snippet marks and the "did you mean" suggestion:

- a compound (pyvi's words and the archive's, see `_groups`) matches where its
  syllables stand together, not anywhere apart; single syllables stay syllables;
- a query typed without marks is read as its most likely accented reading, from
  the archive's own words and the syllables that stand beside each other, with
  the readings nearly as likely; the reader may ask for every reading instead
  (`exact`, «Tìm chính xác»);
- in a query typed with marks, a syllable typed bare keeps its own spelling where
  the archive has that word ("tai nạn", "cao tốc"), else it is read ("dai
  đồng" -> "đại đồng");
- `-Thủ Đức` excludes the compound, not "Thủ" alone.

A question (a long query) is matched by how much of it an article holds
(`search.ranking`); its words are read only for scoring, from the archive's
word frequencies, which costs no lookups.
"""

from dataclasses import dataclass, replace
from itertools import product

import numpy as np

from index.analysis.analyzers import WordAnalyzer, terms
from index.analysis.normalize import fold
from search.abbreviations import expand
from search.matching import as_written
from search.query import Syllable, parse
from search.ranking import FUNCTION_WORDS, LONG_QUERY
from search.vocabulary import LONGEST_WORD

NEARLY = 0.5  # a reading held by this share of the articles the likeliest one is in is matched too
LITERAL_SHARE = 0.5  # ... a bare syllable keeps its own spelling when held by this share of them
FAR_MORE = 10  # a respelling is offered when it matches this many times the articles the query did
SUGGEST_UP_TO = 8  # syllables: a longer query is a question, not a typo
READINGS = 6  # readings of a compound worth counting, the likeliest first
COLLOCATION = 0.2  # two syllables side by side in this share of the articles holding both are one word
JOINED = 0.05  # ... words side by side in this share of them, one longer word (a rarer thing to write)

_WORDS = WordAnalyzer()
_FOLDED_FUNCTION = frozenset(fold(w) for w in FUNCTION_WORDS)


def _syllable(text):
    return Syllable(text, fold(text), True)


@dataclass(frozen=True)
class Part:
    """A word of the query as it must match: any of its `forms` (tuples of Syllable), each a syllable
    alone or syllables standing together. An abbreviation's forms are all its long and short forms."""

    typed: tuple
    forms: tuple
    abbreviation: bool = False

    @property
    def read(self):
        """Whether syllables typed without marks were read as an accented word."""
        return not self.abbreviation and [s.text for s in self.forms[0]] != [s.text for s in self.typed]


class Meaning:
    """One query read against one commit's vocabulary; `masks` (`search.matching.Masks`) counts readings."""

    def __init__(self, parsed, vocabulary, masks, exact=False):
        self.parsed, self.exact = parsed, exact
        pieces, self.excluded = _continue_exclusions(parsed, vocabulary)
        self.words = [s for _, parts in pieces for s in parts]
        self.free_text = " ".join(raw for raw, _ in pieces)
        self.phrases = parsed.phrases
        every = self.words + [s for p in self.phrases for s in p]
        self.folded = bool(every) and not any(s.accented for s in every)
        self.units = expand(self.words)
        self.pyvi_words = terms(_WORDS, self.free_text) if self.free_text and not self.folded else []
        self.vocabulary, self.masks = vocabulary, masks
        self._strict = None
        runs = self._runs()
        self.question = sum(1 if isinstance(run[0], list) else len(run) for run in runs if run) >= LONG_QUERY
        self.parts = self._parts(runs)

    @property
    def empty(self):
        return not (self.words or self.phrases)

    # reading

    def _runs(self):
        """The query's words: runs of syllable groups (`_groups`) between abbreviations (lists of forms)."""
        runs = []
        sizes = _pyvi_sizes(self.pyvi_words, self.words)
        at = 0
        run = []  # syllable units in a row, between abbreviations
        for unit in self.units + [None]:
            if isinstance(unit, Syllable):
                run.append(unit)
                continue
            runs.append(_groups(run, sizes[at:at + len(run)], self.vocabulary, self.masks))
            at += len(run)
            run = []
            if unit is not None:
                runs.append(unit)
                at += _typed_length(unit, self.words, at)
        return runs

    def _parts(self, runs):
        parts = []
        for run in runs:
            if run and isinstance(run[0], list):  # an abbreviation
                parts.append(Part(tuple(run[0]), tuple(tuple(form) for form in run), abbreviation=True))
                continue
            groups = run if self.question else _collocations(run, self.vocabulary, self.masks)
            for i, group in enumerate(groups):
                left = parts[-1].forms[0][-1] if i and group[0].joined else None
                right = (_likeliest(groups[i + 1], self.vocabulary)[0]
                         if i + 1 < len(groups) and groups[i + 1][0].joined else None)
                parts.append(Part(group, self._forms(group, (left, right))))
        return parts

    def _forms(self, typed, neighbours=(None, None)):
        """The forms a group of typed syllables matches as: as typed, its likeliest readings, or as written.

        A syllable alone is read by how often each reading stands beside its `neighbours` (the syllables
        read before and after it: "hoc sinh gioi" -> "giỏi", not the commoner "giới"), or where none
        does, by how many articles hold it.
        """
        vocabulary, masks = self.vocabulary, self.masks
        if self.exact or all(s.accented for s in typed):
            return (typed,)
        if self.question:
            return (_likeliest(typed, vocabulary),)
        literal = tuple(as_written(s) for s in typed)
        if len(typed) == 1:
            counts = {(_syllable(r),): df for r, df in vocabulary.readings(typed[0])}
            counts.setdefault(literal, vocabulary.frequency(literal[0].text))
            beside = {form: _beside(form[0], neighbours, masks) for form in counts}
            if any(beside.values()):
                counts = beside
        else:
            # the archive's words that fit, and only if none does, any readings that stand together: its
            # spelling as typed counts as a word ("tai nạn") or not at all ("dân quan" stands in "người
            # dân quan tâm", across two words)
            candidates = [tuple(_syllable(t) for t in w) for w in vocabulary.words_like(typed)[:READINGS]]
            if not candidates:
                choices = [[s] if s.accented else [_syllable(r) for r, _ in vocabulary.readings(s)[:3]] for s in typed]
                candidates = [tuple(c) for c in product(*choices)][:READINGS ** 2] + [literal]
            counts = {form: masks.count(form) for form in candidates}
            counts.setdefault(literal, 0)
        best = max(counts.values())
        if not self.folded and counts[literal] and counts[literal] >= LITERAL_SHARE * best:
            return (literal,)
        if not best:
            return (typed,)
        return tuple(form for form, n in sorted(counts.items(), key=lambda item: -item[1]) if n >= NEARLY * best)

    @property
    def reading(self):
        """The likeliest accented form of each free syllable, in order, where some were typed without marks
        and read: what ranks first among the readings that match (or every one, `exact`)."""
        if self.folded:
            return [s.text for part in self.parts for s in (
                part.forms[0] if part.read else _likeliest(part.typed, self.vocabulary))]
        if self.question or not any(part.read for part in self.parts):
            return []
        return [s.text for part in self.parts for s in (part.forms[0] if part.read else part.typed)]

    @property
    def read_as(self):
        """The query as read, when a syllable typed without marks was read as another spelling; else None."""
        if self.exact or self.question or not any(part.read for part in self.parts):
            return None
        return " ".join(s.text for part in self.parts for s in (part.forms[0] if part.read else part.typed))

    # matching and marking

    def strict(self):
        """The articles holding every part (one of its forms) and every phrase, before exclusions; made
        once (the match and the suggestion both ask)."""
        if self._strict is None:
            mask = self.masks.postings.live
            for phrase in self.phrases:
                mask = mask & self.masks.form(phrase)
            for part in self.parts:
                mask = mask & self.masks.any_form(part.forms)
                if not mask.any():
                    break
            self._strict = mask
        return self._strict

    def marks(self, loose=False):
        """The sequences of syllables a snippet marks: each part's forms (a compound where it stands
        together), or for a question or a loose match every syllable alone; quoted phrases whole.

        In a question, its function words ("của", "được", "các") stand in every sentence and say
        nothing: marked, they bury the words that tell.
        """
        if self.question or loose:
            words = self.words
            if self.question:
                words = [s for s in words if s.text not in FUNCTION_WORDS
                         and (s.accented or s.folded not in _FOLDED_FUNCTION)] or words
            sequences = [(s,) for s in words]
            sequences += [form for unit in self.units if isinstance(unit, list) for form in map(tuple, unit)]
        else:
            sequences = [form for part in self.parts for form in part.forms]
        return sequences + [tuple(p) for p in self.phrases]

    def suggestion(self):
        """"Có phải bạn muốn tìm": the query respelled with the archive's words, when that finds far more
        articles than the typed words do (a typo, a wrong or missing mark), else None.

        Unknown syllables are mended on their folded letters, and the query read again as if typed
        without marks, so a wrong mark is put right by the words around it ("Thủ Đúc" -> "thủ đức").
        Syllables typed with a known mark stay unless a whole known word covers them.
        """
        words, vocabulary = self.words, self.vocabulary
        if not words or len(words) > SUGGEST_UP_TO:
            return None
        unknown = not all(vocabulary.knows(s) for s in words)
        if self.folded and not unknown:  # its reading already answers it ("dang vien")
            return None
        letters = [Syllable(f, f, False) for f in (vocabulary.nearest(s.folded) for s in words)]
        respelled = []
        for group in _groups(letters, [1] * len(letters), vocabulary):
            likeliest = _likeliest(group, vocabulary)
            for typed, read in zip(words[len(respelled):], likeliest):
                keep = typed.accented and vocabulary.knows(typed) and len(group) == 1
                respelled.append(typed.text if keep else read.text)
        if respelled == [s.text for s in words]:
            return None
        text = " ".join(respelled)
        found = np.count_nonzero(Meaning(parse(text), vocabulary, self.masks).strict())
        return text if found and found >= FAR_MORE * np.count_nonzero(self.strict()) else None


def _likeliest(typed, vocabulary):
    """The likeliest reading of a group by the archive's word and syllable frequencies alone."""
    if len(typed) > 1:
        words = vocabulary.words_like(typed)
        if words:
            return tuple(_syllable(t) for t in words[0])
    return tuple(s if s.accented else _syllable(next(iter(vocabulary.readings(s)), (s.text,))[0]) for s in typed)


def _beside(syllable, neighbours, masks):
    """How many articles hold `syllable` standing beside either of its `neighbours` (None: none there)."""
    left, right = neighbours
    return ((masks.count((left, syllable)) if left is not None else 0)
            + (masks.count((syllable, right)) if right is not None else 0))


def _groups(run, sizes, vocabulary, masks=None):
    """A run of syllables cut into words: first into words of two syllables, pyvi's (`sizes`) or the
    archive's, left to right (pyvi glues and cuts lower-case queries: "quốc_gia_thế_giới", "hà |
    nội_thành_phố"), then joined into the longest words the archive knows. Two single syllables join
    freely ("thủ đức" typed in lower case, which pyvi leaves apart); longer words only where their
    pieces stand together as a word's do ("ngô thanh vân", "đơn giản hóa"; not "quốc gia thế giới")."""
    pieces = []
    i = 0
    while i < len(run):
        size = 2 if i + 1 < len(run) and run[i + 1].joined and (
            sizes[i] == 2 or vocabulary.words_like(run[i:i + 2])) else 1
        pieces.append(tuple(run[i:i + size]))
        i += size
    groups = []
    k = 0
    while k < len(pieces):
        for m in range(len(pieces) - k, 0, -1):
            joined = sum(pieces[k:k + m], ())
            if m == 1 or len(joined) > LONGEST_WORD or not all(piece[0].joined for piece in pieces[k + 1:k + m]):
                continue
            words = vocabulary.words_like(joined)
            if words and (len(joined) == 2 or _one_word(words[0], [len(p) for p in pieces[k:k + m]], masks)):
                break
        groups.append(joined)
        k += m
    return groups


def _one_word(word, pieces, masks):
    """Whether `word` (syllable texts) cut into `pieces` (their lengths) is one word: its pieces stand
    together in at least JOINED of the articles holding them all."""
    if masks is None:
        return True
    form = tuple(_syllable(t) for t in word)
    apart = masks.postings.live
    at = 0
    for n in pieces:
        apart = apart & masks.form(form[at:at + n])
        at += n
    both = np.count_nonzero(apart)
    return bool(both) and masks.count(form) >= JOINED * both


def _collocations(groups, vocabulary, masks):
    """`groups` with two neighbouring single syllables, one typed bare, joined where a reading of them
    stands together in the archive as often as a word would ("gia vang" -> "giá vàng", which pyvi
    leaves apart), so that they are read and matched together."""
    joined = []
    for group in groups:
        previous = joined[-1] if joined else None
        if (len(group) == 1 and previous is not None and len(previous) == 1 and group[0].joined
                and not (group[0].accented and previous[0].accented)
                and _together(previous[0], group[0], vocabulary, masks)):
            joined[-1] = previous + group
        else:
            joined.append(group)
    return joined


def _together(a, b, vocabulary, masks):
    """Whether some reading of `a b` stands together in at least COLLOCATION of the articles holding both
    syllables anywhere."""
    def choices(s):
        return [s] if s.accented else [_syllable(r) for r, _ in vocabulary.readings(s)[:3]]

    for x, y in product(choices(a), choices(b)):
        both = np.count_nonzero(masks.form((x,)) & masks.form((y,)) & masks.postings.live)
        if both and masks.count((x, y)) >= COLLOCATION * both:
            return True
    return False


def _pyvi_sizes(pyvi_words, words):
    """How many syllables each of `words` begins a pyvi word of (0 inside one), or 1 for each where pyvi's
    pieces do not line up with the query's syllables (punctuation glued to a word)."""
    sizes = []
    for word in pyvi_words:
        parts = word.split("_")
        sizes += [len(parts)] + [0] * (len(parts) - 1)
    flat = [p for word in pyvi_words for p in word.split("_")]
    return sizes if flat == [s.text for s in words] else [1] * len(words)


def _typed_length(unit, words, at):
    """How many typed syllables an abbreviation unit stands for: the length of its form typed at `at`."""
    for form in sorted(unit, key=len, reverse=True):
        if len(form) <= len(words) - at and all(
                (w.text == f.text) if w.accented else (w.folded == f.folded) for w, f in zip(words[at:], form)):
            return len(form)
    return 1


def _continue_exclusions(parsed, vocabulary):
    """(the free pieces left, the excluded sequences): an excluded word takes the pieces typed after it
    that make one word with it, for pyvi or the archive (`-Thủ Đức`, `-mạnh mẽ`)."""
    excluded = [list(e) for e in parsed.excluded]
    taken = set()
    for e, (written, first) in parsed.continued.items():
        following = []
        for piece in parsed.pieces[first:]:
            if len(excluded[e]) + sum(len(parts) for _, parts in following) + len(piece[1]) > LONGEST_WORD:
                break
            following.append(piece)
        for n in range(len(following), 0, -1):
            joined = excluded[e] + [s for _, parts in following[:n] for s in parts]
            text = " ".join([written] + [raw for raw, _ in following[:n]])
            if vocabulary.words_like(joined) or len(terms(_WORDS, text)) == 1:
                excluded[e] = joined
                taken.update(range(first, first + n))
                break
    pieces = list(parsed.pieces)
    for _, first in parsed.continued.values():
        if first not in taken:  # typed after an excluded word: pairs with no free word before it
            raw, parts = pieces[first]
            pieces[first] = raw, [replace(parts[0], joined=False)] + parts[1:]
    return [piece for i, piece in enumerate(pieces) if i not in taken], excluded

