"""A segment's text postings as flat arrays, written beside the segment and read without decoding.

Whoosh stores each term's postings as pickled, zlib-compressed blocks found
through an on-disk hash table walked in Python: reading the postings of one
common syllable over a 16-segment index cost tens of milliseconds, and a
question reads dozens of terms at several granularities. Here each text field
of a segment (`index.builder.SOURCES`) is a few arrays: the terms' 64-bit
hashes in order, where each term's postings and name start, the names, and the
postings as (article number, frequency) records. A lookup is a binary search
in a small in-memory fence (every FENCE-th hash), then a handful of `pread`s.

Every file ends with a CRC-32 of each PAGE of it and a footer giving its length (as Lucene's codec
footers do): opening a file checks its length and the checksum of that table, and reads check the
pages they cover (each the first time it is read: about 3 us per 4 KB page), so a truncated or
overwritten file is an IndexDamaged naming it, never a wrong answer or a loop on a short read.

Read with `pread` rather than memory-mapped: a server's processes would
otherwise count every page their lookups ever touched as their own memory
(430 MB after 250 queries on baomoi), where these reads stay in the kernel's
page cache.

The file belongs to its segment (`<segment id>.vnp`): Whoosh deletes it with
the segment's other files when no commit lists the segment any more.
Segments written by Whoosh itself have none and are read through Whoosh.
An indexing run ends by merging its commit's files into one
(`<first segment id>.all.vnp`, naming the segments it covers), so that a term
is looked up once rather than once per segment.
"""

import json
import os
import struct
import weakref
import zlib
from array import array

import numpy as np

from index.store.errors import IndexDamaged

EXTENSION = ".vnp"
MERGED = ".all.vnp"  # named after the first segment it covers, so that Whoosh deletes it with that segment
MAGIC = b"VNPOST06"  # the index format: bumped with the posting format, or the module paths a table of contents pickles
PAGE = 4096  # bytes per checksum
_FOOTER = struct.Struct("<8sQI4x")  # FOOTER_MAGIC, the length of the data (before the checksums), their CRC-32
FOOTER_MAGIC = b"VNPSUMS1"
FENCE = 64  # hashes per block: the fence holds one in FENCE, a lookup reads one or two blocks
_HEADER = 16  # MAGIC and the JSON header's length
_MAX_FREQUENCY = np.iinfo(np.uint16).max  # a term more frequent in one article is counted this many times


# A term's 128-bit digest: two 64-bit FNV-1a-style hashes of its UTF-8 bytes (different seeds and
# multipliers), each finished by MurmurHash3's fmix64 so that the lookup half is spread evenly.
# Simple enough to compute for every term of a segment at once in numpy (`digests`), and for one
# term in plain Python (`term_hash`) at query time.
_SEEDS = (0xCBF29CE484222325, 0x84222325CBF29CE4)
_MULTIPLIERS = (0x100000001B3, 0x9E3779B97F4A7C15)
_FMIX = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)  # fmix64: h ^= h >> 33, h *= each, then h ^= h >> 33
_MASK = (1 << 64) - 1


def _fmix(h):
    for m in _FMIX:
        h ^= h >> 33
        h = (h * m) & _MASK
    return h ^ (h >> 33)


def term_hash(name):
    """A term's (UTF-8 bytes) 64-bit hash: the first half of its digest, the same in every process."""
    h, m = _SEEDS[0], _MULTIPLIERS[0]
    for byte in name:
        h = ((h ^ byte) * m) & _MASK
    return _fmix(h)


def digests(blob, starts, lengths):
    """(first halves, second halves) of the digests of the names blob[starts[i]:starts[i] + lengths[i]]."""
    n = len(starts)
    by_length = np.argsort(-lengths, kind="stable")  # the longest first: those still going are a prefix
    starts, lengths = starts[by_length], lengths[by_length]
    halves = [np.full(n, seed, dtype=np.uint64) for seed in _SEEDS]
    going = n - np.searchsorted(lengths[::-1], np.arange(int(lengths[0]) if n else 0), side="right")
    with np.errstate(over="ignore"):
        for j, k in enumerate(going.tolist()):
            byte = blob[starts[:k] + j].astype(np.uint64)
            for h, m in zip(halves, _MULTIPLIERS):
                h[:k] ^= byte
                h[:k] *= np.uint64(m)
        out = []
        for h in halves:
            for m in _FMIX:
                h ^= h >> np.uint64(33)
                h *= np.uint64(m)
            h ^= h >> np.uint64(33)
            unsorted = np.empty(n, dtype=np.uint64)
            unsorted[by_length] = h
            out.append(unsorted)
    return out[0], out[1]


class FieldPostings:
    """A text field's postings as a segment is built: each article's distinct term keys (numbers,
    `index.analysis.term_numbers`) and frequencies appended as arrays, grouped per term once, when the file is
    written. `names(keys)` says where the terms of `keys` are, as UTF-8: (a uint8 array, and per key the
    starts and lengths, each of shape (len(keys), pieces), of the pieces its name is made of)."""

    def __init__(self, names):
        self._names = names
        self._keys, self._freqs, self._docs, self._counts = [], [], array("q"), array("q")

    def add(self, docnum, keys, freqs):
        """Add article `docnum` (after every earlier one) with its distinct term keys and their
        frequencies; returns the field's length in it (the number of terms)."""
        self._keys.append(keys)
        self._freqs.append(freqs)
        self._docs.append(docnum)
        self._counts.append(len(keys))
        return int(freqs.sum())

    def arrays(self, docs_dtype):
        """{array name: array} of the field as the file holds it.

        Beside each term's hash, the other half of its 128-bit digest: merging files, two terms are
        the same term when both halves are (a name comparison for every term would take minutes).
        """
        keys = np.concatenate(self._keys or [np.zeros(0, np.int64)])
        by_key = np.argsort(keys, kind="stable")  # each term's postings together, by article
        keys = keys[by_key]
        first = np.flatnonzero(np.diff(keys, prepend=-1))  # where each distinct key's run starts
        counts = np.diff(first, append=len(keys))
        keys = keys[first]
        source, starts, lengths = self._names(keys)
        name_lengths = lengths.sum(axis=1)
        names = _gather(source, starts.ravel(), lengths.ravel())  # each key's name, in key order
        name_starts = np.cumsum(name_lengths) - name_lengths
        hashes, checks = digests(names, name_starts, name_lengths)
        order = np.lexsort((checks, hashes))  # file position -> term (index into keys)
        grouped = _gather(by_key, first[order], counts[order])  # postings by term in file order, then by article
        entries = _entries(counts[order], name_lengths[order])
        docs = np.repeat(np.frombuffer(self._docs, dtype=np.int64), np.frombuffer(self._counts, dtype=np.int64))
        records = np.zeros(len(grouped), dtype=_records(docs_dtype))
        records["doc"] = docs[grouped]
        records["freq"] = np.minimum(np.concatenate(self._freqs or [np.zeros(0, np.int64)])[grouped], _MAX_FREQUENCY)
        return _arrays(hashes[order], checks[order], entries, _gather(names, name_starts[order], name_lengths[order]),
                       records)


def _entries(counts, name_lengths):
    """Each term's (first posting, first byte of its name), and the ends after the last, from the terms'
    posting counts and name lengths in file order."""
    entries = np.zeros((len(name_lengths) + 1, 2), dtype=np.int64)
    np.cumsum(counts, out=entries[1:, 0])
    np.cumsum(name_lengths, out=entries[1:, 1])
    return entries


def _arrays(hashes, checks, entries, names, records):
    return {"hashes": hashes, "checks": checks, "fence": hashes[::FENCE].copy(), "entries": entries,
            "names": names, "postings": records}


def _records(docs_dtype):
    return np.dtype([("doc", docs_dtype), ("freq", np.uint16)])


def _docs_dtype(documents):
    return np.dtype(np.uint16 if documents <= np.iinfo(np.uint16).max + 1 else np.uint32)


def write(f, fields, documents):
    """Write {field name: FieldPostings} of a segment of `documents` articles into the binary file `f`."""
    docs_dtype = _docs_dtype(documents)
    _write(f, {name: postings.arrays(docs_dtype) for name, postings in fields.items()}, documents, docs_dtype)


def _write(f, fields, documents, docs_dtype, segments=None):
    arrays, header = [], {"documents": documents, "docs": docs_dtype.str, "segments": segments, "fields": {}}
    offset = 0
    for name in sorted(fields):
        described = header["fields"][name] = {"terms": len(fields[name]["hashes"])}
        for key, data in fields[name].items():
            described[key] = offset
            arrays.append(data)
            offset += -(-data.nbytes // 8) * 8  # every array 8-byte aligned
    head = json.dumps(header).encode("utf-8")
    head += b" " * (-len(head) % 8)
    out = _Checksummed(f)
    out.write(MAGIC + len(head).to_bytes(8, "little") + head)
    for data in arrays:
        out.write(data.tobytes())
        out.write(b"\0" * (-data.nbytes % 8))
    out.finish()


class _Checksummed:
    """Writes through to `f`, keeping the CRC-32 of each PAGE; `finish` appends them and the footer."""

    def __init__(self, f):
        self._f = f
        self._page = bytearray()
        self._sums = array("I")
        self._length = 0

    def write(self, data):
        self._f.write(data)
        self._length += len(data)
        view = memoryview(data).cast("B")
        if self._page:
            taken = PAGE - len(self._page)
            self._page += view[:taken]
            view = view[taken:]
            if len(self._page) < PAGE:
                return
            self._sums.append(zlib.crc32(self._page))
            self._page.clear()
        whole = len(view) - len(view) % PAGE
        self._sums.extend(zlib.crc32(view[at:at + PAGE]) for at in range(0, whole, PAGE))
        self._page += view[whole:]

    def finish(self):
        if self._page:
            self._sums.append(zlib.crc32(self._page))
        table = np.asarray(self._sums, dtype="<u4").tobytes()
        self._f.write(table + b"\0" * (-len(table) % 8))
        self._f.write(_FOOTER.pack(FOOTER_MAGIC, self._length, zlib.crc32(table)))


def _gather(data, starts, lengths):
    """data[starts[0]:starts[0] + lengths[0]] + data[starts[1]:...] + ..., in one indexing."""
    ends = np.cumsum(lengths)
    kind = np.int32 if len(data) < 2 ** 31 else np.int64  # the index costs half the memory
    return data[np.arange(int(ends[-1]) if len(ends) else 0, dtype=kind)
                + np.repeat((starts - ends + lengths).astype(kind), lengths)]


def _merged_field(parts, field, docs_dtype):
    """One field of `parts` ([(PostingFile, first article number)]) as the arrays of a single file."""
    hashes, checks, part_of, counts, firsts, lengths, starts, names, records = [], [], [], [], [], [], [], [], []
    name_base = record_base = 0
    for n, (part, offset) in enumerate(parts):
        if not part.has_field(field):
            continue
        arrays = part._fields[field].arrays()
        entries = arrays["entries"]
        hashes.append(arrays["hashes"])
        checks.append(arrays["checks"])
        part_of.append(np.full(len(arrays["hashes"]), n, dtype=np.int32))
        counts.append(np.diff(entries[:, 0]))
        firsts.append(entries[:-1, 0] + record_base)
        lengths.append(np.diff(entries[:, 1]))
        starts.append(entries[:-1, 1] + name_base)
        names.append(arrays["names"])
        postings = np.zeros(len(arrays["postings"]), dtype=_records(docs_dtype))
        postings["doc"] = arrays["postings"]["doc"].astype(docs_dtype) + offset
        postings["freq"] = arrays["postings"]["freq"]
        records.append(postings)
        name_base += len(arrays["names"])
        record_base += len(postings)
    hashes, checks, part_of = np.concatenate(hashes), np.concatenate(checks), np.concatenate(part_of)
    counts, firsts = np.concatenate(counts), np.concatenate(firsts)
    lengths, starts = np.concatenate(lengths), np.concatenate(starts)
    order = np.lexsort((part_of, checks, hashes))  # a term's pieces together, in article order
    hashes, checks, counts, firsts = hashes[order], checks[order], counts[order], firsts[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (hashes[1:] != hashes[:-1]) | (checks[1:] != checks[:-1])
    groups = np.flatnonzero(new)
    named = order[groups]
    entries = _entries(np.add.reduceat(counts, groups) if len(groups) else [], lengths[named])
    return _arrays(hashes[groups], checks[groups], entries,
                   _gather(np.concatenate(names), starts[named], lengths[named]),
                   _gather(np.concatenate(records), firsts, counts))


def merge(f, parts, segments):
    """Write into `f` one posting file for all of `parts` ([(PostingFile, first article number)], in the
    reader's order), the articles numbered as the index reader numbers them; `segments` are the ids
    of the segments it covers, in that order."""
    documents = max((offset + part.documents for part, offset in parts), default=0)
    docs_dtype = _docs_dtype(documents)
    fields = sorted({name for part, _ in parts for name in part._fields})
    _write(f, {name: _merged_field(parts, name, docs_dtype) for name in fields}, documents, docs_dtype, segments)


class _Field:
    """One field of a posting file: its fence in memory, the rest read on demand."""

    def __init__(self, file, base, described, records):
        self._file = file
        self.terms = described["terms"]
        self._at = {key: base + described[key] for key in ("hashes", "checks", "entries", "names", "postings")}
        self._records = records
        self.fence = file.read(base + described["fence"], np.uint64, -(-self.terms // FENCE))

    def find(self, name, key):
        """(first posting, end) of the term `name` (UTF-8) whose `term_hash` is `key`, or None."""
        first = max(int(self.fence.searchsorted(key)) - 1, 0) * FENCE  # `key`'s run starts in this block or next
        while first < self.terms:
            block = self._file.read(self._at["hashes"] + 8 * first, np.uint64, min(2 * FENCE, self.terms - first))
            i = int(block.searchsorted(key))
            while i < len(block) and block[i] == key:
                entry = self._file.read(self._at["entries"] + 16 * (first + i), np.int64, 4).tolist()
                if self._file.pread(entry[3] - entry[1], self._at["names"] + entry[1]) == name:
                    return entry[0], entry[2]
                i += 1
            if i < len(block):
                return None
            first += len(block)
        return None

    def postings(self, start, end):
        return self._file.read(self._at["postings"] + self._records.itemsize * start, self._records, end - start)

    def arrays(self):
        """Every array of the field, read whole (merging)."""
        entries = self._file.read(self._at["entries"], np.int64, 2 * (self.terms + 1)).reshape(-1, 2)
        return {"hashes": self._file.read(self._at["hashes"], np.uint64, self.terms),
                "checks": self._file.read(self._at["checks"], np.uint64, self.terms),
                "entries": entries,
                "names": self._file.read(self._at["names"], np.uint8, int(entries[-1, 1])),
                "postings": self.postings(0, int(entries[-1, 0]))}

    def frequencies(self):
        """{term: document frequency}."""
        entries = self._file.read(self._at["entries"], np.int64, 2 * (self.terms + 1)).reshape(-1, 2)
        blob = self._file.pread(int(entries[-1, 1]), self._at["names"])
        bounds = entries[:, 1].tolist()
        counts = np.diff(entries[:, 0]).tolist()
        return {blob[bounds[i]:bounds[i + 1]].decode("utf-8"): counts[i] for i in range(self.terms)}


def _folder(segment_reader):
    """The folder of a segment reader's files (None for an empty index or an index in memory)."""
    return getattr(getattr(segment_reader, "_storage", None), "folder", None)


class _File:
    """An open posting file read with `pread` (safe to share between threads), closed with its last
    reference. Opening checks the footer and the page checksums' table; every read, the pages it covers."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)
        size = os.fstat(self.fd).st_size
        footer = os.pread(self.fd, _FOOTER.size, size - _FOOTER.size) if size >= _FOOTER.size else b""
        if len(footer) != _FOOTER.size:
            raise IndexDamaged(path, f"{size} bytes, too short for a posting file")
        magic, self.end, table_sum = _FOOTER.unpack(footer)
        if magic != FOOTER_MAGIC:
            raise IndexDamaged(path, "its footer is missing: truncated or overwritten")
        table = -(-self.end // PAGE) * 4
        written = self.end + table + (-table % 8) + _FOOTER.size
        if written != size:
            raise IndexDamaged(path, f"{size} bytes where its footer says {written}")
        sums = os.pread(self.fd, table, self.end)
        if zlib.crc32(sums) != table_sum:
            raise IndexDamaged(path, "its table of checksums does not match")
        self._sums = np.frombuffer(sums, dtype="<u4").tolist()
        self._checked = bytearray(len(self._sums))  # pages read and found right since the file was opened

    def pread(self, size, offset):
        """`size` bytes at `offset`, checked against their pages' checksums (each page the first time it is
        read: the pages a server's lookups keep reading cost the check once)."""
        if size <= 0:
            return b""
        if offset < 0 or offset + size > self.end:
            raise IndexDamaged(self.path, f"a read of {size} bytes at {offset} goes past its end ({self.end})")
        first, last = offset // PAGE, (offset + size - 1) // PAGE
        if self._checked.find(0, first, last + 1) < 0:  # every page checked already: just the bytes asked for
            return self._exactly(size, offset)
        start, stop = first * PAGE, min((last + 1) * PAGE, self.end)
        data = self._exactly(stop - start, start)
        view, checked = memoryview(data), self._checked
        for page in range(first, last + 1):
            if not checked[page]:
                at = (page - first) * PAGE
                if zlib.crc32(view[at:at + PAGE]) != self._sums[page]:
                    raise IndexDamaged(self.path, f"checksum mismatch in bytes {page * PAGE}-{page * PAGE + PAGE - 1}")
                checked[page] = 1
        return data[offset - start:offset - start + size] if (start, stop) != (offset, offset + size) else data

    def _exactly(self, size, offset):
        data = os.pread(self.fd, size, offset)
        if len(data) != size:
            raise IndexDamaged(self.path, f"{len(data)} bytes read at {offset} where {size} were expected")
        return data

    def read(self, offset, dtype, count):
        dtype = np.dtype(dtype)
        return np.frombuffer(self.pread(dtype.itemsize * count, offset), dtype=dtype)


class PostingFile:
    """A segment's posting file, or a merged one: safe to share between threads."""

    def __init__(self, path):
        file = _File(path)
        if file.pread(8, 0) != MAGIC:
            raise IndexDamaged(path, "not a posting file of this version")
        length = int.from_bytes(file.pread(8, 8), "little")
        try:
            header = json.loads(file.pread(length, _HEADER))
            self.documents = header["documents"]
            self.segments = header["segments"]
            records = _records(np.dtype(header["docs"]))
            described = header["fields"].items()
        except (ValueError, KeyError, TypeError, AttributeError) as e:  # checksums right, content not ours
            raise IndexDamaged(path, f"its header cannot be read: {e}") from None
        self._fields = {name: _Field(file, _HEADER + length, described, records) for name, described in described}

    @classmethod
    def of(cls, segment_reader):
        """The posting file of a Whoosh segment reader's segment, or None when it has none."""
        folder = _folder(segment_reader)
        segment = segment_reader.segment()
        if folder is None or segment is None:
            return None
        path = os.path.join(folder, segment.make_filename(EXTENSION))
        return cls(path) if os.path.exists(path) else None

    @classmethod
    def merged(cls, reader):
        """The posting file covering every segment of the index `reader` reads, as the last indexing run
        merged them, or None (one segment, or segments added since)."""
        leaves = reader.leaf_readers()
        folder = _folder(leaves[0][0]) if len(leaves) > 1 else None
        if folder is None:
            return None
        path = os.path.join(folder, leaves[0][0].segment().make_filename(MERGED))
        if not os.path.exists(path):
            return None
        found = cls(path)
        return found if found.segments == [leaf.segment().segment_id() for leaf, _ in leaves] else None

    def has_field(self, field):
        return field in self._fields

    def postings(self, field, term, key=None):
        """(article numbers, as the file counts them, and frequencies) of `term` in `field`, ascending
        numbers, or None.

        `term` is a str, or its UTF-8 bytes with `key`, their `term_hash`, computed once for all segments.
        """
        found = self._fields.get(field)
        if found is None:
            return None
        if key is None:
            term = term.encode("utf-8")
            key = term_hash(term)
        span = found.find(term, np.uint64(key))
        if span is None:
            return None
        records = found.postings(*span)
        return records["doc"].astype(np.int32), records["freq"].astype(np.float32)

    def frequencies(self, field):
        """{term: how many articles of the segment hold it} in `field`."""
        return self._fields[field].frequencies()


def exists(folder, segment):
    """Whether the Whoosh `segment` has its own posting file."""
    return os.path.exists(os.path.join(folder, segment.make_filename(EXTENSION)))


def is_current(folder, segment):
    """False when the Whoosh `segment` has a posting file (its own, or a merged one named after it) in
    another format than this version writes."""
    for extension in (EXTENSION, MERGED):
        path = os.path.join(folder, segment.make_filename(extension))
        if os.path.exists(path):
            with open(path, "rb") as f:
                magic = f.read(len(MAGIC))
            if magic != MAGIC and magic[:6] == MAGIC[:6]:  # VNPOSTnn: another version's (else damaged: `check`)
                return False
    return True


def check(path):
    """Raise IndexDamaged when the posting file at `path` is not as written (its length, its checksums'
    table, its first page): what opening it checks, without reading its header and fields."""
    if _File(path).pread(len(MAGIC), 0) != MAGIC:
        raise IndexDamaged(path, "not a posting file of this version")


def merge_segments(folder, segments):
    """Merge the posting files of Whoosh `segments` (a commit's list, in order) into one, before the commit
    is written: a query then looks a term up once instead of once per segment.

    Written to a temporary name and renamed: readers of the previous commit keep the file they opened,
    and a crash leaves nothing a reader would take (the file names the segments it covers).
    Does nothing when a segment has no posting file of its own.
    """
    parts, offset = [], 0
    for segment in segments:
        path = os.path.join(folder, segment.make_filename(EXTENSION))
        if not os.path.exists(path):
            return
        parts.append((PostingFile(path), offset))
        offset += segment.doc_count_all()
    target = os.path.join(folder, segments[0].make_filename(MERGED))
    try:
        with open(target + ".tmp", "wb") as f:
            merge(f, parts, [segment.segment_id() for segment in segments])
        os.replace(target + ".tmp", target)
    except BaseException:
        if os.path.exists(target + ".tmp"):
            os.remove(target + ".tmp")
        raise
