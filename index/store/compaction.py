"""Compaction: the index written again as one segment without the articles replaced or deleted since.

A replaced article is only marked deleted in its segment (Whoosh's way): its stored text, columns and
postings stay, and an archive updated often grew run after run (a 5,000-article index of 100 MB
took 324 MB after two update runs). Once the articles marked deleted are COMPACT_SHARE of those the
index counts, the indexing run ends by writing one new segment of the others, numbered again in
order: Whoosh copies their lengths and columns (`SegmentWriter.add_reader`), their stored fields are
written again in blocks (`stored.write_live`), and the posting files are merged without them
(`postingfile.merge`, renumbered), a range of terms at a time. Readers of the previous commit keep the
files they opened; the old segments' files go with the commit that lists them no more.
"""

import numpy as np
from whoosh import index as whoosh_index

from index.store import builder, postingfile, stored
from index.store.directory import _locked, write_sums
from index.store.reading import CommitPostings, deleted_articles

COMPACT_SHARE = 0.2  # of the articles an index counts, marked deleted: past it, an indexing run compacts


def worth_compacting(ix):
    """Whether the articles marked deleted in the index `ix` are COMPACT_SHARE of those it counts or more."""
    with ix.reader() as reader:
        counted = reader.doc_count_all()
        return counted > 0 and counted - reader.doc_count() >= COMPACT_SHARE * counted


def compact(ix, lock_timeout=30.0):
    """Write the index `ix` again as one segment of its live articles (under the index lock); returns how
    many deleted articles were dropped (0: nothing was deleted, nothing written)."""
    with ix.reader() as reader:
        if reader.doc_count() == reader.doc_count_all():
            return 0
    try:
        writer = ix.writer(timeout=lock_timeout, delay=0.25, compound=builder.COMPOUND)
    except whoosh_index.LockError:
        raise _locked(ix.storage.folder, lock_timeout) from None
    try:
        with ix.reader() as reader:  # as committed when the lock was taken
            dropped = deleted_articles(reader)
            kept = np.ones(reader.doc_count_all(), dtype=bool)
            kept[dropped] = False
            renumbered = np.where(kept, np.cumsum(kept) - 1, -1)  # the order `add_reader` copies them in
            parts = CommitPostings(reader).parts
            for segment_reader, _ in reader.leaf_readers():  # one at a time: over several, Whoosh copies the
                writer.add_reader(segment_reader)              # columns' values translated, and fails on them
            segment = writer._finalize_segment()
            with segment.create_file(writer.storage, stored.EXTENSION) as f:
                stored.write_live(f, reader)
            with segment.create_file(writer.storage, postingfile.EXTENSION) as f:
                postingfile.merge(f, parts, None, renumbered)
        write_sums(ix.storage.folder, segment)
        writer._commit_toc([segment])
    except BaseException:
        writer._cleanup_on_error()  # the new segment's files: deleted by the next commit, listed by none
        raise
    writer._finish()
    return len(dropped)
