"""The index's own vocabulary: how a folded query is most likely accented, and spelling suggestions.

Learned from the lexicon of the indexed articles, not from a general model:
pyvi's `ViUtils.add_accents` turns "dang vien" into "Đang viên" and "ha noi"
into "Hà nói", while an archive about party work knows "đảng viên" best.
"""

from index.normalize import fold
from index.schema import TEXT_FIELDS, TITLE_FIELDS

LONGEST_WORD = 4  # syllables
SUGGEST_UP_TO = 8  # syllables: a longer query is a question, not a typo


def _terms(reader, fieldname):
    for term in reader.field_terms(fieldname) if fieldname in reader.indexed_field_names() else ():
        yield term.decode("utf-8") if isinstance(term, bytes) else term


def _best_by_fold(reader, fieldnames):
    """{folded term: (accented term, document frequency)} keeping the most frequent accented form."""
    best = {}
    for fieldname in fieldnames:
        if fieldname not in reader.indexed_field_names():
            continue
        for term, info in reader.iter_field(fieldname):
            term = term.decode("utf-8") if isinstance(term, bytes) else term
            key = fold(term)
            df = info.doc_frequency()
            if key not in best or df > best[key][1]:
                best[key] = (term, df)
    return best


class Vocabulary:
    """Read from one commit of the index, then shared by every thread (it keeps no reader)."""

    def __init__(self, reader):
        self.words = _best_by_fold(reader, [TEXT_FIELDS["words"], TITLE_FIELDS["words"]])
        self.syllables = _best_by_fold(reader, [TEXT_FIELDS["syllables"], TITLE_FIELDS["syllables"]])
        self.known = {term for term, _ in self.syllables.values()} | set(_terms(reader, TEXT_FIELDS["syllables"]))

    def reading(self, syllables):
        """The most likely accented form of each query syllable, preferring whole known words.

        Greedy longest match over the index's words ("dang vien" -> "đảng_viên"),
        then the most frequent accented syllable; syllables typed with marks stay as typed.
        """
        out = []
        i = 0
        while i < len(syllables):
            if syllables[i].accented:
                out.append(syllables[i].text)
                i += 1
                continue
            for n in range(min(LONGEST_WORD, len(syllables) - i), 0, -1):
                chunk = syllables[i:i + n]
                if n > 1 and any(s.accented for s in chunk):
                    continue
                key = "_".join(s.folded for s in chunk)
                found = (self.words.get(key) if n > 1 else None) or (self.syllables.get(key) if n == 1 else None)
                if found:
                    out.extend(found[0].split("_"))
                    i += n
                    break
            else:
                out.append(syllables[i].text)
                i += 1
        return out

    def _correction(self, syllable, reader):
        """A known syllable for an unknown one: the same letters with other marks, else one edit away."""
        same_letters = self.syllables.get(syllable.folded)
        if same_letters and (syllable.accented and same_letters[0] != syllable.text):
            return same_letters[0]
        field = TEXT_FIELDS["syllables"]
        candidates = [(reader.doc_frequency(field, t), t) for t in reader.terms_within(field, syllable.text, 1)]
        candidates = [c for c in candidates if c[0] > 0 and c[1] != syllable.text]
        return max(candidates)[1] if candidates else None

    def _unknown(self, syllable):
        if syllable.accented:
            return syllable.text not in self.known
        return syllable.folded not in self.syllables

    def suggest(self, parsed, reader):
        """"Có phải bạn muốn tìm": the query with unknown syllables replaced by known ones, or None.

        `reader` is the calling thread's own, for the edit-distance look-up.
        """
        if not parsed.words or len(parsed.words) > SUGGEST_UP_TO:
            return None
        fixes = {s: self._correction(s, reader) for s in set(parsed.words) if self._unknown(s)}
        fixes = {s: fix for s, fix in fixes.items() if fix}
        if not fixes:
            return None
        return " ".join(fixes.get(s, s.text) for s in parsed.words)
