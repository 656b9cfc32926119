"""A segment's text postings as flat arrays, written beside the segment and read without decoding.

Whoosh stores each term's postings as pickled, zlib-compressed blocks found
through an on-disk hash table walked in Python: reading the postings of one
common syllable over a 16-segment index cost tens of milliseconds, and a
question reads dozens of terms at several granularities. Here each text field
of a segment (`index.builder.SOURCES`) is a few arrays: the terms' 64-bit
hashes in order, where each term's postings and name start, the names, and the
postings as (article number, frequency) records. A lookup is a binary search
in a small in-memory fence (every FENCE-th hash), then a handful of `pread`s.

Read with `pread` rather than memory-mapped: a server's processes would
otherwise count every page their lookups ever touched as their own memory
(430 MB after 250 queries on baomoi), where these reads stay in the kernel's
page cache.

The file belongs to its segment (`<segment id>.vnp`): Whoosh deletes it with
the segment's other files when no commit lists the segment any more.
Segments written by Whoosh itself have none and are read through Whoosh.
"""

import json
import os
import weakref
from hashlib import blake2b

import numpy as np

EXTENSION = ".vnp"
MAGIC = b"VNPOST02"
FENCE = 64  # hashes per block: the fence holds one in FENCE, a lookup reads one or two blocks
_HEADER = 16  # MAGIC and the JSON header's length
_MAX_FREQUENCY = np.iinfo(np.uint16).max  # a term more frequent in one article is counted this many times


def term_hash(name):
    """A term's (UTF-8 bytes) 64-bit hash, the same in every process (Python's `hash` is salted)."""
    return int.from_bytes(blake2b(name, digest_size=8).digest(), "little")


def _field_arrays(terms, docs_dtype):
    """{array name: array} for one field's {term: [(docnum, freq, ...), ...] by docnum}."""
    names = [t.encode("utf-8") if isinstance(t, str) else t for t in terms]
    hashes = np.fromiter((term_hash(n) for n in names), dtype=np.uint64, count=len(names))
    order = np.argsort(hashes, kind="stable")
    postings = list(terms.values())
    entries = np.zeros((len(order) + 1, 2), dtype=np.int64)  # (first posting, first byte of the name)
    np.cumsum(np.fromiter((len(postings[i]) for i in order), dtype=np.int64, count=len(order)), out=entries[1:, 0])
    np.cumsum(np.fromiter((len(names[i]) for i in order), dtype=np.int64, count=len(order)), out=entries[1:, 1])
    records = np.zeros(int(entries[-1, 0]), dtype=_records(docs_dtype))
    records["doc"] = np.fromiter((p[0] for i in order for p in postings[i]), dtype=docs_dtype, count=len(records))
    records["freq"] = np.fromiter((min(int(p[1]), _MAX_FREQUENCY) for i in order for p in postings[i]),
                                  dtype=np.uint16, count=len(records))
    hashes = hashes[order]
    return {"hashes": hashes, "fence": hashes[::FENCE].copy(), "entries": entries,
            "names": np.frombuffer(b"".join(names[i] for i in order), dtype=np.uint8), "postings": records}


def _records(docs_dtype):
    return np.dtype([("doc", docs_dtype), ("freq", np.uint16)])


def write(f, fields, documents):
    """Write {field name: {term: [(docnum, freq, ...), ...] by docnum}} of a segment of `documents` articles
    into the binary file `f`."""
    docs_dtype = np.dtype(np.uint16 if documents <= np.iinfo(np.uint16).max + 1 else np.uint32)
    arrays, header = [], {"documents": documents, "docs": docs_dtype.str, "fields": {}}
    offset = 0
    for name in sorted(fields):
        described = header["fields"][name] = {"terms": len(fields[name])}
        for key, array in _field_arrays(fields[name], docs_dtype).items():
            described[key] = offset
            arrays.append(array)
            offset += -(-array.nbytes // 8) * 8  # every array 8-byte aligned
    head = json.dumps(header).encode("utf-8")
    head += b" " * (-len(head) % 8)
    f.write(MAGIC + len(head).to_bytes(8, "little") + head)
    for array in arrays:
        f.write(array.tobytes())
        f.write(b"\0" * (-array.nbytes % 8))


class _Field:
    """One field of a posting file: its fence in memory, the rest read on demand."""

    def __init__(self, file, base, described, records):
        self._file = file
        self.terms = described["terms"]
        self._at = {key: base + described[key] for key in ("hashes", "entries", "names", "postings")}
        self._records = records
        self.fence = file.read(base + described["fence"], np.uint64, -(-self.terms // FENCE))

    def find(self, name, key):
        """(first posting, end) of the term `name` (UTF-8) whose `term_hash` is `key`, or None."""
        first = max(int(self.fence.searchsorted(key)) - 1, 0) * FENCE  # the run of `key` starts in this block or the next
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

    def frequencies(self):
        """{term: document frequency}."""
        entries = self._file.read(self._at["entries"], np.int64, 2 * (self.terms + 1)).reshape(-1, 2)
        blob = self._file.pread(int(entries[-1, 1]), self._at["names"])
        bounds = entries[:, 1].tolist()
        counts = np.diff(entries[:, 0]).tolist()
        return {blob[bounds[i]:bounds[i + 1]].decode("utf-8"): counts[i] for i in range(self.terms)}


class _File:
    """An open file read with `pread` (safe to share between threads), closed with its last reference."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)

    def pread(self, size, offset):
        return os.pread(self.fd, size, offset)

    def read(self, offset, dtype, count):
        dtype = np.dtype(dtype)
        return np.frombuffer(self.pread(dtype.itemsize * count, offset), dtype=dtype)


class PostingFile:
    """One segment's posting file: safe to share between threads."""

    def __init__(self, path):
        file = _File(path)
        if file.pread(8, 0) != MAGIC:
            raise ValueError(f"{path}: not a posting file")
        length = int.from_bytes(file.pread(8, 8), "little")
        header = json.loads(file.pread(length, _HEADER))
        self.documents = header["documents"]
        records = _records(np.dtype(header["docs"]))
        self._fields = {name: _Field(file, _HEADER + length, described, records)
                        for name, described in header["fields"].items()}

    @classmethod
    def of(cls, segment_reader):
        """The posting file of a Whoosh segment reader's segment, or None when it has none."""
        folder = getattr(getattr(segment_reader, "_storage", None), "folder", None)
        segment = segment_reader.segment()
        if folder is None or segment is None:
            return None
        path = os.path.join(folder, segment.make_filename(EXTENSION))
        return cls(path) if os.path.exists(path) else None

    def has_field(self, field):
        return field in self._fields

    def postings(self, field, term, key=None):
        """(article numbers in the segment, frequencies) of `term` in `field`, ascending numbers, or None.

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
