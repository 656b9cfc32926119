"""A segment's stored fields (what a results page and the article page show), compressed in blocks of
consecutive articles, beside the segment.

Whoosh pickles and compresses each article's stored fields on its own (`_stored.col`): 1.7 KB an
article on baomoi, where the same text compressed BLOCK bytes at a time, as Lucene and tantivy store
theirs, takes about two thirds of that (benchmarks/bench_stored.py). Each block is zlib-compressed
against a preset dictionary drawn from the segment's first articles, so that a small block (quick to
read for one hit) compresses nearly as well as a large one. A commit's `StoredFields` keeps the
blocks it last read, so a results page of neighbouring hits decompresses each block once.

The file (`<segment id>.vns`) belongs to its segment: Whoosh deletes it with the segment's other
files. It starts with MAGIC and ends with a table of blocks (where each starts, its first article,
its CRC-32) and a footer: opening it checks the footer and the table's checksum, reading a block
checks the block's, so a truncated or overwritten file is an IndexDamaged naming it, never a wrong
article.
"""

import bisect
import os
import pickle
import struct
import threading
import weakref
import zlib
from array import array
from collections import OrderedDict

from index.store.errors import IndexDamaged, RebuildNeeded

EXTENSION = ".vns"
MAGIC = b"VNSTOR01"  # bumped with the format: a file of another version is refused with the rebuild message
BLOCK = 16 * 1024  # bytes of articles (pickled) per block, before compression
LEVEL = 5  # zlib's: 6 and over cost twice the CPU against a dictionary for 2 % fewer bytes (bench_stored.py)
SAMPLE = 64  # the first articles of a segment, from which its preset dictionary is drawn
DICTIONARY = 32 * 1024  # zlib's window: a longer dictionary is not used
CACHED_BLOCKS = 64  # per commit: speed only, the fields read are the same
_FOOTER = struct.Struct("<QIIIII4x8s")  # table offset, blocks, articles, dictionary length and CRC-32, table CRC-32
FOOTER_MAGIC = b"VNSEND01"
_LENGTH = struct.Struct("<I")


class StoredWriter:
    """A new segment's stored fields: `add` each article's in article-number order, then `write` the file.

    Blocks are compressed as they fill (the segment's articles are never all held uncompressed), once
    the first SAMPLE articles have given the dictionary.
    """

    def __init__(self):
        self.documents = 0
        self._block, self._size = [], 0  # pickled articles of the block being filled
        self._waiting = []  # full blocks waiting for the dictionary
        self._dictionary = None
        self._compressed = []  # (first article, compressed bytes) of each block
        self._next = 0  # the first article of the next block compressed

    def add(self, fields):
        """The stored fields of the next article (a dict; values that are None are not stored)."""
        record = pickle.dumps({name: value for name, value in fields.items() if value is not None}, protocol=5)
        self._block.append(record)
        self._size += len(record)
        self.documents += 1
        if self._size >= BLOCK:
            self._waiting.append(self._block)
            self._block, self._size = [], 0
            self._compress(self.documents < SAMPLE)

    def _compress(self, wait):
        if self._dictionary is None:
            if wait:
                return
            self._dictionary = _dictionary([r for block in self._waiting for r in block] + self._block)
        for records in self._waiting:
            raw = b"".join([_LENGTH.pack(len(records)), array("I", map(len, records)).tobytes(), *records])
            compressor = zlib.compressobj(LEVEL, zdict=self._dictionary)
            self._compressed.append((self._next, compressor.compress(raw) + compressor.flush()))
            self._next += len(records)
        self._waiting = []

    def write(self, f):
        """Write the file into `f` (a binary file), with the articles added so far."""
        if self._block:
            self._waiting.append(self._block)
            self._block, self._size = [], 0
        self._compress(wait=False)
        dictionary = self._dictionary or b""
        f.write(MAGIC + dictionary)
        offsets = array("Q", [len(MAGIC) + len(dictionary)])
        for _, data in self._compressed:
            f.write(data)
            offsets.append(offsets[-1] + len(data))
        table = (offsets.tobytes() + array("I", [first for first, _ in self._compressed]).tobytes()
                 + array("I", [zlib.crc32(data) for _, data in self._compressed]).tobytes())
        f.write(table)
        f.write(_FOOTER.pack(offsets[-1], len(self._compressed), self.documents, len(dictionary),
                             zlib.crc32(dictionary), zlib.crc32(table), FOOTER_MAGIC))


def write_live(f, reader):
    """Write into `f` the stored fields of the articles `reader` does not count as deleted, in order: those of
    the one segment compaction writes them into (`index.store.compaction`), numbered as it numbers them."""
    writer = StoredWriter()
    for fields in StoredFields(reader).live(reader):
        writer.add(fields)
    writer.write(f)


def _dictionary(records):
    """zlib's preset dictionary for a segment: the start and the end of each sampled article (field names,
    the text's common words, the URL's site), the whole at most DICTIONARY bytes."""
    records = records[:SAMPLE]
    piece = DICTIONARY // max(1, len(records)) // 2
    return b"".join(r[:piece] + r[-piece:] if len(r) > 2 * piece else r for r in records)[-DICTIONARY:]


class StoredFile:
    """One segment's stored-fields file, read with `pread` (safe to share between threads), closed with its
    last reference. Opening checks the footer and the table of blocks; reading a block, its checksum."""

    def __init__(self, path):
        self.path = str(path)
        self.fd = os.open(path, os.O_RDONLY)
        # closed with its last reference; not at exit, where a read-ahead thread may still be reading it
        weakref.finalize(self, os.close, self.fd).atexit = False
        size = os.fstat(self.fd).st_size
        if os.pread(self.fd, len(MAGIC), 0) != MAGIC:
            raise IndexDamaged(path, "not a stored-fields file of this version")
        footer = os.pread(self.fd, _FOOTER.size, size - _FOOTER.size) if size >= len(MAGIC) + _FOOTER.size else b""
        if len(footer) != _FOOTER.size or footer[-len(FOOTER_MAGIC):] != FOOTER_MAGIC:
            raise IndexDamaged(path, "its footer is missing: truncated or overwritten")
        table_at, blocks, self.documents, dictionary_length, dictionary_sum, table_sum, _ = _FOOTER.unpack(footer)
        table_length = (blocks + 1) * 8 + blocks * 8
        if table_at + table_length + _FOOTER.size != size:
            raise IndexDamaged(path, f"{size} bytes where its footer says {table_at + table_length + _FOOTER.size}")
        table = os.pread(self.fd, table_length, table_at)
        if zlib.crc32(table) != table_sum:
            raise IndexDamaged(path, "its table of blocks does not match its checksum")
        self._dictionary = os.pread(self.fd, dictionary_length, len(MAGIC))
        if zlib.crc32(self._dictionary) != dictionary_sum:
            raise IndexDamaged(path, "its dictionary does not match its checksum")
        self._offsets = array("Q", table[:(blocks + 1) * 8])
        self._firsts = array("I", table[(blocks + 1) * 8:(blocks + 1) * 8 + blocks * 4]).tolist()
        self._sums = array("I", table[(blocks + 1) * 8 + blocks * 4:])
        firsts, offsets = self._firsts + [self.documents], self._offsets
        if (firsts[0] != 0 or any(a >= b for a, b in zip(firsts, firsts[1:]))
                or offsets[0] != len(MAGIC) + dictionary_length or offsets[-1] != table_at
                or any(a >= b for a, b in zip(offsets, offsets[1:]))):
            raise IndexDamaged(path, "its table of blocks is not in order")

    @property
    def blocks(self):
        return len(self._firsts)

    def first(self, block):
        """The first article of `block`, numbered within the segment."""
        return self._firsts[block]

    def locate(self, docnum):
        """(block, position in it) of the article `docnum` (numbered within the segment)."""
        if not 0 <= docnum < self.documents:
            raise IndexError(f"article {docnum} of a segment of {self.documents}")
        block = bisect.bisect_right(self._firsts, docnum) - 1
        return block, docnum - self._firsts[block]

    def block(self, number):
        """The pickled articles of block `number`, checked and decompressed (a list of bytes)."""
        start, end = self._offsets[number], self._offsets[number + 1]
        data = os.pread(self.fd, end - start, start)
        if len(data) != end - start or zlib.crc32(data) != self._sums[number]:
            raise IndexDamaged(self.path, f"block {number} does not match its checksum")
        try:
            decompressor = zlib.decompressobj(zdict=self._dictionary)
            raw = decompressor.decompress(data) + decompressor.flush()
        except zlib.error as e:  # checksum right, content not ours
            raise IndexDamaged(self.path, f"block {number} cannot be decompressed: {e}") from None
        count = (self._firsts[number + 1] if number + 1 < self.blocks else self.documents) - self._firsts[number]
        if len(raw) < _LENGTH.size or _LENGTH.unpack_from(raw)[0] != count:
            raise IndexDamaged(self.path, f"block {number} does not hold the {count} articles its table says")
        records, at = [], _LENGTH.size + 4 * count
        for length in array("I", raw[_LENGTH.size:at]):
            records.append(raw[at:at + length])
            at += length
        if at != len(raw):
            raise IndexDamaged(self.path, f"block {number} is not as long as its articles")
        return records


def _segment_path(segment_reader):
    """The stored-fields file of a Whoosh segment reader's segment (None for an index in memory)."""
    folder = getattr(getattr(segment_reader, "_storage", None), "folder", None)
    return None if folder is None else os.path.join(folder, segment_reader.segment().make_filename(EXTENSION))


def exists(folder, segment):
    """Whether the Whoosh `segment` has its stored-fields file."""
    return os.path.exists(os.path.join(folder, segment.make_filename(EXTENSION)))


def is_current(folder, segment):
    """False when the Whoosh `segment`'s stored-fields file is of another format than this version writes
    (a damaged one is `directory.check`'s to name)."""
    path = os.path.join(folder, segment.make_filename(EXTENSION))
    if not os.path.exists(path):
        return True
    with open(path, "rb") as f:
        magic = f.read(len(MAGIC))
    return magic == MAGIC or magic[:6] != MAGIC[:6]


def without_stored_fields(segment):
    """The message refusing a Whoosh `segment` that has no stored-fields file."""
    return (f"segment {segment.segment_id()} of the index has no stored-fields file (written by an older version of "
            "vnsearch, or by another program); run `vnsearch index --rebuild`")


class StoredFields:
    """The stored fields of one commit's articles (numbered as Whoosh's reader numbers them), opened once;
    safe to share between threads. The last CACHED_BLOCKS blocks read are kept decompressed."""

    def __init__(self, reader, cached=CACHED_BLOCKS):
        self._files, self._starts = [], []
        for segment, offset in reader.leaf_readers():
            if not segment.doc_count_all():  # (an empty index reads as one reader without a segment)
                continue
            path = _segment_path(segment)
            try:
                file = StoredFile(path) if path is not None else None
            except FileNotFoundError:  # deleted by a rebuild since this commit was read, or never written
                file = None
            if file is None:
                raise RebuildNeeded(without_stored_fields(segment.segment()))
            if file.documents != segment.doc_count_all():
                raise IndexDamaged(path, f"{file.documents} articles where its segment has {segment.doc_count_all()}")
            self._files.append(file)
            self._starts.append(offset)
        self._cached = cached
        self._blocks = OrderedDict()  # (file, block) -> pickled articles, least recently used first
        self._lock = threading.Lock()

    def fields(self, docnum):
        """{field: value} of the article `docnum` (a new dict: the caller may change it)."""
        part = bisect.bisect_right(self._starts, docnum) - 1
        if part < 0:
            raise IndexError(f"no article {docnum}")
        block, position = self._files[part].locate(docnum - self._starts[part])
        return pickle.loads(self._block(part, block)[position])

    def _block(self, part, block):
        key = (part, block)
        with self._lock:
            found = self._blocks.get(key)
            if found is not None:
                self._blocks.move_to_end(key)
                return found
        found = self._files[part].block(block)  # outside the lock: other threads read meanwhile
        if self._cached:
            with self._lock:
                self._blocks[key] = found
                while len(self._blocks) > self._cached:
                    self._blocks.popitem(last=False)
        return found

    def article(self, searcher, article_id):
        """The stored fields of the article `article_id` in the commit `searcher` reads, or None."""
        docnum = searcher.document_number(id=article_id)
        return None if docnum is None else self.fields(docnum)

    def live(self, reader):
        """The stored fields of every article `reader` does not count as deleted, in article-number order,
        each block read once and not kept (a walk through the whole index would only empty the cache)."""
        for file, start in zip(self._files, self._starts):
            for block in range(file.blocks):
                first = file.first(block)
                for position, record in enumerate(file.block(block)):
                    if not reader.is_deleted(start + first + position):
                        yield pickle.loads(record)
