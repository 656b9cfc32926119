"""Writing analysed articles into a new Whoosh segment, fast, in whichever process analysed them.

Whoosh's `add_document` runs each text field's analyzer (a Token object per
token), encodes each posting as a tuple in a pool that `commit` sorts, and does
it all in the one process that holds the lock. Here the terms of the text
fields (every granularity of title and text) come as numbered arrays
(`index.analysis.term_numbers`), each article's are appended as they are, grouped per term
once, and each pyvi worker writes its own segment: the process holding the
lock only commits the segments' list (`index.writer`).

The text fields' postings go to the segment's posting file
(`index.store.postingfile`), not into Whoosh's term index: pickling them into
Whoosh's blocks and hash tables was 63 % of indexing time and 1.9 GB of the
baomoi index. The stored fields go to the segment's stored-fields file
(`index.store.stored`), compressed in blocks of articles rather than one by one.
Everything else (lengths, columns, the other fields' postings and term
statistics) is what `add_document` writes, in Whoosh's own file format;
tests/test_builder.py, tests/test_postingfile.py and tests/test_stored.py check
all three.
"""

import gc
import zlib
from array import array
from functools import partial
from pickle import dumps

from whoosh.codec.whoosh3 import COMPRESSION_MIN_SIZE, WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from index.analysis import term_numbers
from index.store import postingfile, stored
from index.store.schema import FOLDED, GRANULARITIES, TEXT_FIELDS, TITLE_FIELDS

# Text field: (the text it indexes, which of `term_numbers.TermNumbers.terms` granularities)
SOURCES = {
    **{TITLE_FIELDS[g]: ("title", g) for g in GRANULARITIES},
    **{TEXT_FIELDS[g]: ("text", g) for g in GRANULARITIES},
}

# Segments stay separate files: Whoosh reads a compound segment by copying each of its files into
# memory, for every searcher (1.5 GB per searcher for the baomoi index), where plain files are read
# in place.
COMPOUND = False


def article_terms(analysed):
    """{"title"/"text": terms} of an analysed article (`index.writer.Analysed`), as `add` takes them."""
    return {"title": analysed.title_terms, "text": analysed.text_terms}


class SegmentBuilder:
    """A new segment of the index in `ix`, filled with `add` and written with `finish`.

    It takes no lock: the process that commits the segment into the index holds it.
    """

    def __init__(self, ix):
        self._writer = SegmentWriter(ix, _lk=False, compound=COMPOUND)
        self.schema = self._writer.schema
        self._term_numbers = term_numbers.term_numbers()  # the term numbers of `terms`
        self._text = {}  # text field name -> postingfile.FieldPostings
        self._postings = {}  # other field name -> {term: [(docnum, weight, value), ...]}
        self._lengths = {}  # field name -> [length of each docnum as the segment's length column gives it back]
        self._stored = stored.StoredWriter()

    def __len__(self):
        return self._writer.docnum

    def add(self, fields, terms):
        """Add one document: `fields` as for `add_document`, `terms` its `article_terms`."""
        writer = self._writer
        perdoc = writer.perdocwriter
        docnum = writer.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        writer._check_fields(self.schema, names)
        perdoc.start_doc(docnum)
        values = {}  # stored
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            if name in FOLDED:  # its postings are its source field's, read there by folded form
                source, granularity = SOURCES[name]
                length = int(terms[source][granularity][1].sum())
            elif name in SOURCES:  # scorable, so the length is the number of tokens
                source, granularity = SOURCES[name]
                postings = self._text.get(name)
                if postings is None:
                    postings = self._text[name] = postingfile.FieldPostings(partial(self._term_numbers.names, granularity))
                length = postings.add(docnum, *terms[source][granularity])
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
                if length:  # what Whoosh's term statistics need
                    lengths = self._lengths.setdefault(name, [])
                    lengths += [0] * (docnum + 1 - len(lengths))
                    lengths[docnum] = byte_to_length(length_to_byte(length)) if length_to_byte(length) else 0
            if field.stored:
                values[name] = value
            perdoc.add_field(name, field, None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._stored.add(values)
        writer._added = True
        writer.docnum += 1

    def finish(self):
        """Write the segment's files; returns the whoosh Segment to commit, or None when nothing was added.

        What `SegmentWriter._flush_segment` does with a sorted pool, but a term at a time rather
        than a posting at a time.
        """
        writer = self._writer
        if not len(self):
            writer._close_segment()
            return None
        assert writer.codec._inlinelimit <= 1  # postings never inlined in the term info, as _write_term writes them
        writer.perdocwriter.close()
        with writer.newsegment.create_file(writer.storage, stored.EXTENSION) as f:
            self._stored.write(f)
        fields = writer.fieldwriter
        for name in sorted(self._postings):
            fields.start_field(name, self.schema[name])
            terms = self._postings[name]
            lengths = self._lengths.get(name, [])
            lengths += [0] * (len(self) - len(lengths))
            for btext, term in sorted((t.encode("utf-8") if isinstance(t, str) else t, t) for t in terms):
                _write_term(fields, btext, terms[term], lengths)
            fields.finish_field()
        fields.close()
        with writer.newsegment.create_file(writer.storage, postingfile.EXTENSION) as f:
            postingfile.write(f, self._text, len(self))
        self._text = self._postings = self._lengths = {}
        writer._close_segment()
        writer._assemble_segment()
        return writer.get_segment()

    def cancel(self):
        """Close the files; a segment that is never committed is deleted by the next commit."""
        self._writer._close_segment()


def _write_term(fields, btext, postings, lengths):
    """What `W3FieldWriter.start_term`, `add` per posting and `finish_term` write for a term, in one go.

    Same bytes (tests/test_builder.py compares the files): each block of the term's postings
    ((docnum, weight, value), by docnum) pickled as W3PostingsWriter._write_block pickles it, the
    term's statistics summed as W3TermInfo.add_block sums them (block weights as 32-bit floats).
    `lengths[docnum]` is the field length as the postings writer would read it back (0: none).
    """
    postings_writer = fields._postwriter
    postfile = postings_writer._postfile
    limit, level = postings_writer._blocklimit, postings_writer._compression
    fixed = fields._format.fixed_value_size()
    info = W3TermInfo()
    start = postfile.tell()
    parts = [WHOOSH3_HEADER_MAGIC]
    for first in range(0, len(postings), limit):
        docnums, weights, values = zip(*postings[first:first + limit])
        stored = array("f", weights)
        known = [n for n in map(lengths.__getitem__, docnums) if n] if lengths else ()
        minlength, maxlength, maxweight = min(known, default=None), max(known, default=0), max(0, *weights)
        info._weight += sum(stored)
        info._df += len(docnums)
        info._minlength = minlength if info._minlength is None else min(info._minlength, minlength)
        info._maxlength = max(info._maxlength, maxlength)
        info._maxweight = max(info._maxweight, maxweight)
        if info._minid is None:
            info._minid = docnums[0]
        info._maxid = docnums[-1]

        ids = (docnums[0], *[b - a for a, b in zip(docnums, docnums[1:])])
        if all(w == 1.0 for w in stored):
            weights = None
        elif all(w == stored[0] for w in stored):
            weights = stored[0]
        else:
            weights = tuple(stored)
        values = [v for v in values if v]
        values = tuple(values) if fixed is None else (b"".join(values) if fixed else None)
        data = dumps((ids, weights, values), 2)
        comp = level if len(data) >= COMPRESSION_MIN_SIZE else 0
        if comp:
            data = zlib.compress(data, comp)
        head = dumps((len(docnums), docnums[-1], maxweight, comp, length_to_byte(minlength),
                      length_to_byte(maxlength)), 2)
        size = len(head) + len(data)
        parts += [pack_int(size if first + limit < len(postings) else -size), head, data]
    postfile.write(b"".join(parts))
    info.set_extent(start, postfile.tell() - start)
    fields._tindex.add(pack_ushort(fields._fieldid) + btext, info.to_bytes())


def build(ix, analysed_articles, document):
    """A segment holding `analysed_articles` (each turned into fields by `document`), and their ids in docnum order.

    Python's cyclic garbage collector is paused meanwhile: the builder makes no cycles, and each
    full collection would only walk again through the millions of postings it holds (5 % of the time).
    """
    if term_numbers.term_numbers().full():
        term_numbers.forget()
    builder = SegmentBuilder(ix)
    ids = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        for analysed in analysed_articles:
            builder.add(document(analysed), article_terms(analysed))
            ids.append(analysed.article.id)
        return builder.finish(), ids
    except BaseException:
        builder.cancel()
        raise
    finally:
        if collecting:
            gc.enable()
