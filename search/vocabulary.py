"""The index's own vocabulary: how a folded query is most likely accented, and spelling suggestions.

Learned from the lexicon of the indexed articles, not from a general model:
pyvi's `ViUtils.add_accents` turns "dang vien" into "Đang viên" and "ha noi"
into "Hà nói", while an archive about party work knows "đảng viên" best.
"""

from index.analysis.normalize import fold
from index.store.schema import TEXT_FIELDS, TITLE_FIELDS
from search.query import Syllable

LONGEST_WORD = 4  # syllables
SUGGEST_UP_TO = 8  # syllables: a longer query is a question, not a typo


def _best_by_fold(frequencies, fieldnames):
    """{folded term: (accented term, document frequency)} keeping the most frequent accented form."""
    best = {}
    for fieldname in fieldnames:
        for term, df in frequencies(fieldname).items():
            key = fold(term)
            if key not in best or df > best[key][1]:
                best[key] = (term, df)
    return best


class Vocabulary:
    """Read from one commit of the index, then shared by every thread (it keeps no reader).

    `frequencies` is a reader's `search.postings.frequencies_by_field`: each field is read once.
    """

    def __init__(self, frequencies):
        self.words = _best_by_fold(frequencies, [TEXT_FIELDS["words"], TITLE_FIELDS["words"]])
        self.syllables = _best_by_fold(frequencies, [TEXT_FIELDS["syllables"], TITLE_FIELDS["syllables"]])
        self.known = {term for term, _ in self.syllables.values()} | set(frequencies(TEXT_FIELDS["syllables"]))
        self.folded = frequencies(TEXT_FIELDS["folded"])
        self._letters = sorted({c for term in self.folded for c in term})

    def _read(self, syllables):
        """[(accented syllable, whether it came from a whole known word)], greedy longest word first."""
        out = []
        i = 0
        while i < len(syllables):
            if syllables[i].accented:
                out.append((syllables[i].text, False))
                i += 1
                continue
            for n in range(min(LONGEST_WORD, len(syllables) - i), 1, -1):
                chunk = syllables[i:i + n]
                found = None if any(s.accented for s in chunk) else self.words.get("_".join(s.folded for s in chunk))
                if found:
                    out.extend((part, True) for part in found[0].split("_"))
                    i += n
                    break
            else:
                found = self.syllables.get(syllables[i].folded)
                out.append((found[0] if found else syllables[i].text, False))
                i += 1
        return out

    def reading(self, syllables):
        """The most likely accented form of each query syllable, preferring whole known words.

        Greedy longest match over the index's words ("dang vien" -> "đảng_viên"),
        then the most frequent accented syllable; syllables typed with marks stay as typed.
        """
        return [text for text, _ in self._read(syllables)]

    def _nearest(self, folded):
        """The most frequent folded syllable one edit away from an unknown one ("bayy" -> "bay")."""
        splits = [(folded[:i], folded[i:]) for i in range(len(folded) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + c + b[1:] for a, b in splits if b for c in self._letters}
        edits |= {a + c + b for a, b in splits for c in self._letters}
        candidates = [(self.folded[t], t) for t in edits if t in self.folded]
        return max(candidates)[1] if candidates else folded

    def _unknown(self, syllable):
        if syllable.accented:
            return syllable.text not in self.known
        return syllable.folded not in self.syllables

    def suggest(self, parsed):
        """"Có phải bạn muốn tìm": the query respelled with the index's own words, or None.

        Unknown syllables are mended on their folded letters (a typo) and the
        query is read again as if typed without marks, so a wrong or missing
        mark is put right by the words around it ("Thủ Đúc" -> "thủ đức").
        Syllables typed with a known mark stay unless a whole known word
        covers them.
        """
        words = parsed.words
        if not words or len(words) > SUGGEST_UP_TO or not any(self._unknown(s) for s in words):
            return None
        folded = [s.folded if s.folded in self.syllables else self._nearest(s.folded) for s in words]
        read = self._read([Syllable(f, f, False) for f in folded])
        suggestion = [s.text if s.accented and not self._unknown(s) and not from_word else text
                      for s, (text, from_word) in zip(words, read)]
        return " ".join(suggestion) if suggestion != [s.text for s in words] else None
