"""What search reads from one commit of the index, as arrays over its articles (numbered as Whoosh's
reader numbers them): a term's postings and document frequencies, field lengths, deleted articles,
columns (read in numpy: a Python call per article took most of a first search on a large archive).

The text fields' postings are in posting files (`index.store.postingfile`): the file the last
indexing run merged, for the segments it covers (the first), and the later segments' own. A
segment without one (merged by another program, such as Whoosh's `optimize`, whose merge drops
them) is refused: its articles would be found by nothing, in silence.
"""

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.util.numeric import byte_to_length
from whoosh.util.times import datetime_to_long

from index.store.directory import RebuildNeeded, without_posting_file
from index.store.postingfile import PostingFile, term_key

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


class CommitPostings:
    """The posting files of one commit, opened once (each open reads the files' fences); safe to share
    between threads: the merged file, covering the first segments, and the later segments' own."""

    def __init__(self, reader):
        found = PostingFile.merged(reader)
        self.parts = [(found, 0)] if found is not None else []  # (PostingFile, its first article's number)
        for segment, offset in reader.leaf_readers()[len(found.segments) if found is not None else 0:]:
            if segment.doc_count_all():  # (an empty index reads as one reader without a segment)
                own = PostingFile.of(segment)
                if own is None:
                    raise RebuildNeeded(without_posting_file(segment.segment()))
                self.parts.append((own, offset))

    def readings(self, field, text):
        """The terms `text` stands for in `field` (itself, or for a folded field each term it folds), with
        their postings: [(name, article numbers ascending, as int32; frequencies, as float32)], one a posting
        file holding it (`PostingFile.readings`); an article may be in several."""
        key = term_key(text)
        found = []
        for file, offset in self.parts:
            for name, docs, freqs in file.readings(field, text, key):
                ids = docs.astype(np.int32, copy=False)  # (a long list is int32 already: not copied)
                found.append((name, ids + offset if offset else ids, freqs.astype(np.float32)))
        return found

    def frequencies(self, field):
        """{term: how many articles hold it} for every term of `field`.

        Read file by file: Whoosh's own multi-segment term iteration merges the segments' term lists in
        Python, minutes on an index of 16 segments."""
        if len(self.parts) == 1:
            file = self.parts[0][0]
            return file.frequencies(field) if file.has_field(field) else {}
        found = {}
        for file, _ in self.parts:
            for term, n in (file.frequencies(field).items() if file.has_field(field) else ()):
                found[term] = found.get(term, 0) + n
        return found


def field_lengths(reader, field):
    """Every article's length in `field` (its number of terms), as Whoosh's one-byte approximation."""
    lengths = np.zeros(reader.doc_count_all(), dtype=np.float32)
    for segment, offset in reader.leaf_readers():
        column = segment._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
        if column is not None and column._count:
            raw = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
            lengths[offset:offset + len(raw)] = _LENGTH_OF_BYTE[raw]
    return lengths


def deleted_articles(reader):
    """The numbers of the articles deleted (replaced or gone) but still counted in the commit."""
    return [offset + n for segment, offset in reader.leaf_readers() if segment.has_deletions()
            for n in segment._perdoc.deleted_docs()]


def column_codes(reader, name):
    """(the distinct values of the text column `name`, in the order articles first hold them; every
    article's index into them). An article of a segment without the column has the value None.

    Read segment by segment (Whoosh's multi-segment column readers lose their way when a segment lacks
    the column: no article in it had a value), each column's bytes at once in numpy rather than one
    read per article; every distinct value translated as Whoosh's column reader does.
    """
    values, codes = {}, np.zeros(reader.doc_count_all(), dtype=np.int32)
    for segment, offset in reader.leaf_readers():
        count = segment.doc_count_all()
        if not segment.has_column(name):
            codes[offset:offset + count] = values.setdefault(None, len(values))
            continue
        field = reader.schema[name]
        found, at = _distinct_bytes(segment._perdoc.column_reader(name, field.column_type), count)
        numbers = np.array([values.setdefault(field.from_column_value(v), len(values)) for v in found],
                           dtype=np.int32)
        codes[offset:offset + count] = numbers[at]
    return list(values), codes


_PAD = 0xFF  # a byte UTF-8 never holds: values padded with it stay apart ("a" and "a\xff" cannot both be)


def _distinct_bytes(column, count):
    """(the distinct values of a segment's VarBytesColumn, in the order its articles first hold them;
    each article's index into them)."""
    lengths = np.frombuffer(column._lengths, dtype=column._lengths.typecode).astype(np.int64)
    offsets = np.frombuffer(column._offsets, dtype=column._offsets.typecode).astype(np.int64)
    width = int(lengths.max()) if count else 0
    if not width:  # every value empty
        return [b""] * bool(count), np.zeros(count, dtype=np.int64)
    data = np.frombuffer(column._dbfile.get(column._basepos, int((offsets + lengths).max())), dtype=np.uint8)
    at = offsets[:, None] + np.arange(width)
    inside = np.arange(width) < lengths[:, None]
    rows = np.where(inside, data[np.where(inside, at, 0)], _PAD).astype(np.uint8)
    keys = np.ascontiguousarray(rows).view(np.dtype((np.void, width))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    found = [bytes(rows[first[i], :lengths[first[i]]]) for i in order]
    return found, rank[inverse.ravel()]


def date_numbers(reader, name):
    """Every article's date in the DATETIME column `name`, as `date_number` gives it; 0 where it has none
    (a segment without the column, or the column's default: a maximum). Read in numpy, each segment's
    column at once."""
    numbers = np.zeros(reader.doc_count_all(), dtype=np.int64)
    for segment, offset in reader.leaf_readers():
        if segment.has_column(name):
            column = segment._perdoc.column_reader(name, reader.schema[name].column_type)
            values = np.full(segment.doc_count_all(), column._default, dtype=np.uint64)
            stored = min(column._count, len(values))
            values[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored * column._fixedlen),
                                            dtype=np.dtype(column._typecode).newbyteorder(">"))
            numbers[offset:offset + len(values)] = np.where(values < 2 ** 63, values, 0)
    return numbers


def date_number(moment):
    """A datetime as a DATETIME column holds it (Whoosh's encoding: ordered as the moments are)."""
    return datetime_to_long(moment)
