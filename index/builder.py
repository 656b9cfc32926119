"""Writing analysed articles into a new Whoosh segment, fast, in whichever process analysed them.

Whoosh's `add_document` runs each text field's analyzer (a Token object per
token), encodes each posting as a tuple in a pool that `commit` sorts, and does
it all in the one process that holds the lock. Here the terms of the six text
fields come from one pass (`analysis.index_terms`, `text_postings`), postings are grouped per
term as they are made, and each pyvi worker writes its own segment: the
process holding the lock only commits the segments' list (`index.writer`).

The segment holds what `add_document` would have written, byte for byte in
every posting (Frequency values for words, Positions for syllables, the same
weights, stored fields, lengths and columns); tests/test_builder.py checks it.
"""

from collections import Counter
from pickle import dumps

from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from index import analysis

# Text field: (the text it indexes, which of text_postings' granularities)
TEXT_FIELDS = {
    "title": ("title", 0), "title_syl": ("title", 1), "title_fold": ("title", 2),
    "text": ("text", 0), "text_syl": ("text", 1), "text_fold": ("text", 2),
}

_freq_values = {}  # freq -> Frequency's encoded value
_single_positions = {}  # position -> Positions' encoded value for a term seen once


def _frequency_value(freq):
    value = _freq_values.get(freq)
    if value is None:
        value = _freq_values[freq] = pack_uint(freq)
    return value


def _positions_value(positions):
    """`whoosh.formats.Positions.encode`, memoized for the common single position."""
    if len(positions) == 1:
        p = positions[0]
        value = _single_positions.get(p)
        if value is None:
            value = _single_positions[p] = pack_uint(1) + dumps([p], 2)
        return value
    deltas = [positions[0]] + [b - a for a, b in zip(positions, positions[1:])]
    return pack_uint(len(deltas)) + dumps(deltas, 2)


def text_postings(word_terms, syllables):
    """What one text gives each granularity, as {term: (freq, encoded value)}: words as Whoosh's
    Frequency format encodes them, syllables and folded syllables as its Positions format does.

    Folded syllables are the syllables' positions merged per folded form, not a second pass over the text.
    """
    words = {t: (n, _frequency_value(n)) for t, n in Counter(word_terms).items()}
    positions = {}
    for pos, t in enumerate(syllables):
        seen = positions.get(t)
        if seen is None:
            positions[t] = [pos]
        else:
            seen.append(pos)
    exact, folded = {}, {}
    fold = analysis.fold_term
    for t, p in positions.items():
        value = _positions_value(p)
        exact[t] = (len(p), value)
        f = fold(t)
        seen = folded.get(f)
        if seen is None:
            folded[f] = (len(p), value, p)
        else:
            merged = sorted(seen[2] + p)
            folded[f] = (len(merged), _positions_value(merged), merged)
    return words, exact, folded


class SegmentBuilder:
    """A new segment of the index in `ix`, filled with `add` and written with `finish`.

    It takes no lock: the process that commits the segment into the index holds it.
    """

    def __init__(self, ix):
        self._writer = SegmentWriter(ix, _lk=False)
        self.schema = self._writer.schema
        self._postings = {}  # field name -> {term: [(docnum, weight, value), ...]}
        self._lengths = {}  # field name -> {docnum: length as the segment's length column gives it back}

    def __len__(self):
        return self._writer.docnum

    def add(self, fields, terms):
        """Add one document: `fields` as for `add_document`, `terms` {"title"/"text": text_postings(...)}."""
        writer = self._writer
        perdoc = writer.perdocwriter
        docnum = writer.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        writer._check_fields(self.schema, names)
        perdoc.start_doc(docnum)
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            if name in TEXT_FIELDS:  # scorable, so the length is the number of tokens
                source, granularity = TEXT_FIELDS[name]
                boost = field.format.field_boost
                postings = self._postings.setdefault(name, {})
                for term, entry in terms[source][granularity].items():
                    freq = entry[0]
                    length += freq
                    found = postings.get(term)
                    if found is None:
                        postings[term] = [(docnum, freq * boost, entry[1])]
                    else:
                        found.append((docnum, freq * boost, entry[1]))
            elif field.indexed:
                postings = self._postings.setdefault(name, {})
                for term, freq, weight, encoded in field.index(value):
                    if field.scorable:
                        length += freq
                    found = postings.get(term)
                    if found is None:
                        postings[term] = [(docnum, weight, encoded)]
                    else:
                        found.append((docnum, weight, encoded))
            if length and length_to_byte(length):
                self._lengths.setdefault(name, {})[docnum] = byte_to_length(length_to_byte(length))
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        writer._added = True
        writer.docnum += 1

    def finish(self):
        """Write the segment's files; returns the whoosh Segment to commit, or None when nothing was added.

        What `SegmentWriter._flush_segment` does with a sorted pool, but fed a term's postings a
        block at a time rather than through `add_posting` one by one.
        """
        writer = self._writer
        if not len(self):
            writer._close_segment()
            return None
        writer.perdocwriter.close()
        fields = writer.fieldwriter
        for name in sorted(self._postings):
            fields.start_field(name, self.schema[name])
            terms = self._postings[name]
            lengths = self._lengths.get(name, {})
            for btext, term in sorted((t.encode("utf-8") if isinstance(t, str) else t, t) for t in terms):
                fields.start_term(btext)
                _add_postings(fields._postwriter, terms[term], lengths)
                fields.finish_term()
            fields.finish_field()
        fields.close()
        self._postings = self._lengths = {}
        writer._close_segment()
        writer._assemble_segment()
        return writer.get_segment()

    def cancel(self):
        """Close the files; a segment that is never committed is deleted by the next commit."""
        self._writer._close_segment()


def _add_postings(writer, postings, lengths):
    """`W3PostingsWriter.add_posting` for each of `postings` ((docnum, weight, value), by docnum), a block at a time."""
    limit = writer._blocklimit
    for start in range(0, len(postings), limit):
        if len(writer._ids) >= limit:
            writer._write_block()
        docnums, weights, values = zip(*postings[start:start + limit])
        writer._ids.extend(docnums)
        writer._weights.extend(weights)
        writer._maxweight = max(writer._maxweight, *weights)
        writer._values.extend(v for v in values if v)
        known = [lengths[d] for d in docnums if d in lengths]
        if known:
            low = min(known)
            if writer._minlength is None or low < writer._minlength:
                writer._minlength = low
            writer._maxlength = max(writer._maxlength, *known)


def build(ix, analysed_articles, document):
    """A segment holding `analysed_articles` (each turned into fields by `document`), and their ids in docnum order."""
    builder = SegmentBuilder(ix)
    ids = []
    try:
        for analysed in analysed_articles:
            a = analysed.article
            terms = {"title": text_postings(*analysis.index_terms(a.title, analysed.title_words)),
                     "text": text_postings(*analysis.index_terms(a.text, analysed.text_words))}
            builder.add(document(analysed), terms)
            ids.append(a.id)
    except BaseException:
        builder.cancel()
        raise
    return builder.finish(), ids
