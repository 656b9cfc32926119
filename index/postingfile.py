"""A segment's text postings as flat arrays, written beside the segment and read without decoding.

Whoosh stores each term's postings as pickled, zlib-compressed blocks found
through an on-disk hash table walked in Python: reading the postings of one
common syllable over a 16-segment index cost tens of milliseconds, and a
question reads dozens of terms at several granularities. Here each text field
of a segment (`index.builder.SOURCES`) is four arrays: the terms' 64-bit
hashes in order (found with a binary search), where each term's postings and
name start, the article numbers and the frequencies. A term's postings are
two slices of a memory-mapped file.

The file belongs to its segment (`<segment id>.vnp`): Whoosh deletes it with
the segment's other files when no commit lists the segment any more.
Segments written by Whoosh itself have none and are read through Whoosh.
"""

import json
import os
from hashlib import blake2b

import numpy as np

EXTENSION = ".vnp"
MAGIC = b"VNPOST01"
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
    counts = np.fromiter((len(postings[i]) for i in order), dtype=np.int64, count=len(order))
    starts = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    name_starts = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(names[i]) for i in order), dtype=np.int64, count=len(order)), out=name_starts[1:])
    total = int(starts[-1])
    docs = np.fromiter((p[0] for i in order for p in postings[i]), dtype=docs_dtype, count=total)
    freqs = np.fromiter((min(int(p[1]), _MAX_FREQUENCY) for i in order for p in postings[i]), dtype=np.uint16,
                        count=total)
    blob = np.frombuffer(b"".join(names[i] for i in order), dtype=np.uint8)
    return {"hashes": hashes[order], "starts": starts, "name_starts": name_starts, "names": blob,
            "docs": docs, "freqs": freqs}


def write(f, fields, documents):
    """Write {field name: {term: [(docnum, freq, ...), ...] by docnum}} of a segment of `documents` articles
    into the binary file `f`."""
    docs_dtype = np.uint16 if documents <= np.iinfo(np.uint16).max + 1 else np.uint32
    arrays, header = [], {"documents": documents, "fields": {}}
    offset = 0
    for name in sorted(fields):
        described = header["fields"][name] = {"terms": len(fields[name])}
        for key, array in _field_arrays(fields[name], docs_dtype).items():
            described[key] = [offset, array.dtype.str, len(array)]
            arrays.append(array)
            offset += -(-array.nbytes // 8) * 8  # every array 8-byte aligned
    head = json.dumps(header).encode("utf-8")
    head += b" " * (-len(head) % 8)
    f.write(MAGIC + len(head).to_bytes(8, "little") + head)
    for array in arrays:
        f.write(array.tobytes())
        f.write(b"\0" * (-array.nbytes % 8))


class _Field:
    def __init__(self, data, base, described):
        for key in ("hashes", "starts", "name_starts", "names", "docs", "freqs"):
            offset, dtype, count = described[key]
            setattr(self, key, np.ndarray((count,), dtype=dtype, buffer=data, offset=base + offset))

    def find(self, name):
        """The term's index in the field's arrays, or None."""
        key = np.uint64(term_hash(name))
        i = int(np.searchsorted(self.hashes, key))
        while i < len(self.hashes) and self.hashes[i] == key:
            if self.names[self.name_starts[i]:self.name_starts[i + 1]].tobytes() == name:
                return i
            i += 1
        return None

    def terms(self):
        """{term: document frequency}."""
        blob = self.names.tobytes()
        bounds = self.name_starts.tolist()
        counts = np.diff(self.starts).tolist()
        return {blob[bounds[i]:bounds[i + 1]].decode("utf-8"): counts[i] for i in range(len(counts))}


class PostingFile:
    """One segment's posting file, memory-mapped read-only: safe to share between threads."""

    def __init__(self, path):
        data = np.memmap(path, dtype=np.uint8, mode="r")
        if data[:8].tobytes() != MAGIC:
            raise ValueError(f"{path}: not a posting file")
        length = int.from_bytes(data[8:_HEADER].tobytes(), "little")
        header = json.loads(data[_HEADER:_HEADER + length].tobytes())
        self.documents = header["documents"]
        self._fields = {name: _Field(data, _HEADER + length, described)
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

    def postings(self, field, term):
        """(article numbers in the segment, frequencies) of `term` in `field`, ascending numbers."""
        found = self._fields.get(field)
        i = found.find(term.encode("utf-8")) if found is not None else None
        if i is None:
            return None
        start, end = int(found.starts[i]), int(found.starts[i + 1])
        return found.docs[start:end].astype(np.int32), found.freqs[start:end].astype(np.float32)

    def frequencies(self, field):
        """{term: how many articles of the segment hold it} in `field`."""
        return self._fields[field].terms()
