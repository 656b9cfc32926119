"""A segment's text postings, compressed in blocks, written beside the segment and read without Whoosh.

Whoosh stores each term's postings as pickled, zlib-compressed blocks found
through an on-disk hash table walked in Python: reading the postings of one
common syllable over a 16-segment index cost tens of milliseconds, and a
question reads dozens of terms at several granularities. Here each text field
of a segment (`index.store.builder.SOURCES`) is a few arrays: the terms' 64-bit
hashes in order, where each term's postings and name start, its document
frequency, the names, and the postings. A lookup is a binary search in a small
in-memory fence (every FENCE-th hash), then a handful of `pread`s.

Postings are laid out as Lucene's and tantivy's are: in blocks of BLOCK, article numbers as gaps and
frequencies, each bit-packed at the width its block needs (`encode`, `decode`: numpy, no loop per
posting). A term is its blocks' widths (two bytes a block) then their bits: 1.6 bytes a posting on
baomoi, against 6 as flat records. A long list (`long_list`: a thousand postings and more) is flat
instead: a byte a gap and a nibble a frequency, the rare larger ones written apart, read back as arrays
several times faster than bits are unpacked, for about as many bytes.

A field's terms are ordered by the hash of their folded form (`Terms`), so that the terms a folded term
("dang vien") stands for ("đảng viên", "đang viên") are side by side: a folded field (`schema.FOLDED`)
is read in its source field, with no bytes of its own, the postings of its readings in one read each
of names, entries and postings however many they are, as a list each (`PostingFile.readings`) for the
searcher to sum per article: the same postings a folded analyzer gives (tests/test_postingfile.py).

Every file ends with a CRC-32 of each PAGE of it and a footer giving its length (as Lucene's codec
footers do): opening a file checks its length and the checksum of that table, and reads check the
pages they cover (each the first time it is read: about 3 us per 4 KB page), so a truncated or
overwritten file is an IndexDamaged naming it, never a wrong answer or a loop on a short read. The
JSON header saying where each array is comes last (before the checksums), so that a file is written
in one pass, its postings streamed.

Read with `pread` rather than memory-mapped: a server's processes would
otherwise count every page their lookups ever touched as their own memory
(430 MB after 250 queries on baomoi), where these reads stay in the kernel's
page cache.

The file belongs to its segment (`<segment id>.vnp`): Whoosh deletes it with
the segment's other files when no commit lists the segment any more.
An indexing run ends by merging its commit's files into one
(`<first segment id>.all.vnp`, naming the segments it covers), so that a term
is looked up once rather than once per segment; the merge streams the terms a
range of hashes at a time, so its memory does not grow with the archive, and
the segments' own files are deleted once a commit lists the merged one
(`index.store.directory`). The next run's merge takes the merged file and the
new segments' own files.
"""

import json
import os
import struct
import weakref
import zlib
from array import array

import numpy as np

from index.analysis.normalize import fold, fold_all
from index.store.errors import IndexDamaged
from index.store.schema import FOLDED

EXTENSION = ".vnp"
MERGED = ".all.vnp"  # named after the first segment it covers, so that Whoosh deletes it with that segment
MAGIC = b"VNPOST10"  # the index format: bumped with the posting format, or the module paths a table of contents pickles
PAGE = 4096  # bytes per checksum
_FOOTER = struct.Struct("<8sQI4x")  # FOOTER_MAGIC, the length of the data (before the checksums), their CRC-32
FOOTER_MAGIC = b"VNPSUMS1"
FENCE = 64  # hashes per block: the fence holds one in FENCE, a lookup reads one or two blocks
BLOCK = 128  # postings per block: each block's gaps and frequencies packed at the widths it needs
# Postings from which a term's list is kept flat, as bytes, instead of in blocks of bits (`long_list`): the
# long lists are most of what a query reads, and a flat list is read back as arrays, 2-7 ns a posting
# where unpacking blocks of bits takes 20-25, for about 1.5 bytes a posting (1.3-1.5 in blocks; measured on
# 104,586 articles: +2 MB in all).
LONG = 1024
_MAX_FREQUENCY = np.iinfo(np.uint16).max  # a term more frequent in one article is counted this many times
# A merge step: the terms of one range of hashes, about this many bytes of postings (or terms) from all
# the files merged: the merge's memory is bounded by it, whatever the archive's size.
MERGE_BYTES = 4 << 20
MERGE_TERMS = 1 << 19


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


def term_key(term):
    """The hash a term (a str) is looked up by: its folded form's `term_hash` (`Terms`)."""
    return term_hash(fold(term).encode("utf-8"))


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


_POWERS = 2 ** np.arange(63, dtype=np.int64)


def _bit_lengths(values):
    """The bits each of `values` (non-negative) needs: 0 for 0."""
    return np.searchsorted(_POWERS, values, side="right").astype(np.int64)


def _blocks(counts):
    """(term, index in its term, postings) of each block of terms of `counts` postings (each >= 1), and
    each term's number of blocks and first block."""
    blocks = (counts + BLOCK - 1) // BLOCK
    first_block = np.cumsum(blocks) - blocks
    term = np.repeat(np.arange(len(counts)), blocks)
    in_term = np.arange(len(term)) - first_block[term]
    return term, in_term, np.minimum(counts[term] - BLOCK * in_term, BLOCK), blocks, first_block


def _first_bits(offsets, term, blocks, first_block, bits):
    """Each block's first bit: a term is two bytes per block (its widths), then its blocks' bits."""
    before = np.cumsum(bits) - bits
    return 8 * (offsets[term] + 2 * blocks[term]) + before - before[first_block][term]


def _postings_of_blocks(sizes):
    """(block, position in it) of each posting of blocks of `sizes`."""
    block = np.repeat(np.arange(len(sizes)), sizes)
    return block, np.arange(len(block)) - (np.cumsum(sizes) - sizes)[block]


def _encode_blocks(docs, freqs, counts):
    """(bytes as uint8, each term's first byte and the end) of the postings of terms in blocks of BLOCK:
    `docs` ascending within each term, terms one after another, `counts` postings each (>= 1), `freqs` >= 1."""
    docs = np.asarray(docs, dtype=np.int64)
    values = np.asarray(freqs, dtype=np.int64) - 1
    counts = np.asarray(counts, dtype=np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    if not len(docs):
        return np.zeros(0, dtype=np.uint8), offsets
    firsts = np.cumsum(counts) - counts
    gaps = np.empty(len(docs), dtype=np.int64)
    gaps[1:] = docs[1:] - docs[:-1] - 1
    gaps[firsts] = docs[firsts]
    term, in_term, sizes, blocks, first_block = _blocks(counts)
    starts = np.cumsum(sizes) - sizes
    doc_bits = _bit_lengths(np.maximum.reduceat(gaps, starts))
    freq_bits = _bit_lengths(np.maximum.reduceat(values, starts))
    bits = sizes * (doc_bits + freq_bits)
    np.cumsum(2 * blocks + (np.add.reduceat(bits, first_block) + 7) // 8, out=offsets[1:])
    out = np.zeros(int(offsets[-1]) + 8, dtype=np.uint8)  # 8 bytes of room for the last value's lanes
    headers = offsets[term] + 2 * in_term
    out[headers] = doc_bits
    out[headers + 1] = freq_bits
    first_bit = _first_bits(offsets, term, blocks, first_block, bits)
    block, at = _postings_of_blocks(sizes)
    width = doc_bits[block]
    _put(out, first_bit[block] + at * width, gaps)
    _put(out, first_bit[block] + sizes[block] * width + at * freq_bits[block], values)
    return out[:-8], offsets


def _put(out, positions, values):
    """Write each of `values` at its bit position in `out` (little-endian bits; no two overlap)."""
    byte = positions >> 3
    shifted = values.astype(np.uint64) << (positions & 7).astype(np.uint64)
    for k in range(5):  # a value of up to 32 bits, shifted by up to 7, spans 5 bytes
        lane = (shifted >> np.uint64(8 * k)) & np.uint64(255)
        if lane.any():
            out += np.bincount(byte + k, weights=lane, minlength=len(out)).astype(np.uint8)


def _take(buf, positions, widths):
    """The values of `widths` bits at bit `positions` of `buf` (with 8 bytes of room after the last): one
    unaligned 64-bit read each (a value of up to 32 bits, shifted by up to 7; the bits above it masked)."""
    words = np.ndarray(shape=(len(buf) - 7,), dtype="<i8", buffer=buf, strides=(1,))[positions >> 3]
    return (words >> (positions & 7)) & ((1 << widths) - 1)


def _decode_blocks(buf, offsets, counts):
    """(article numbers, frequencies) of the terms in blocks at `offsets` of `buf` (bytes as uint8, with 8
    bytes of room after the last term) with `counts` postings each, one term after another."""
    offsets = np.asarray(offsets, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if not len(counts):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(counts) == 1 and counts[0] <= BLOCK:  # one block (most lookups): the same, in fewer steps
        n, first = int(counts[0]), int(offsets[0])
        doc_bits, freq_bits = int(buf[first]), int(buf[first + 1])
        at = np.arange(n, dtype=np.int64)
        steps = _take(buf, 8 * first + 16 + at * doc_bits, doc_bits) + 1
        freqs = _take(buf, 8 * first + 16 + n * doc_bits + at * freq_bits, freq_bits) + 1
        return np.cumsum(steps) - 1, freqs
    if len(counts) == 1:  # one term of several blocks
        return _decode_term(buf, int(offsets[0]), int(counts[0]))
    term, in_term, sizes, blocks, first_block = _blocks(counts)
    headers = offsets[term] + 2 * in_term
    doc_bits = buf[headers].astype(np.int64)
    freq_bits = buf[headers + 1].astype(np.int64)
    first_bit = _first_bits(offsets, term, blocks, first_block, sizes * (doc_bits + freq_bits))
    block, at = _postings_of_blocks(sizes)
    width = doc_bits[block]
    steps = _take(buf, first_bit[block] + at * width, width) + 1
    freqs = _take(buf, first_bit[block] + sizes[block] * width + at * freq_bits[block], freq_bits[block]) + 1
    totals = np.cumsum(steps)
    firsts = np.cumsum(counts) - counts
    return totals - np.repeat(totals[firsts] - steps[firsts], counts) - 1, freqs


def _decode_term(buf, first, n):
    """`_decode_blocks` of one term of `n` postings at `first`: every block BLOCK postings but the last."""
    blocks = -(-n // BLOCK)
    widths = buf[first:first + 2 * blocks].astype(np.int64)
    doc_bits, freq_bits = widths[0::2], widths[1::2]
    sizes = np.full(blocks, BLOCK, dtype=np.int64)
    sizes[-1] = n - BLOCK * (blocks - 1)
    bits = sizes * (doc_bits + freq_bits)
    first_bit = 8 * (first + 2 * blocks) + np.cumsum(bits) - bits
    at = np.arange(n, dtype=np.int64)
    block = at // BLOCK
    at -= BLOCK * block
    width, start = doc_bits[block], first_bit[block]
    steps = _take(buf, start + at * width, width) + 1
    freqs = _take(buf, start + sizes[block] * width + at * freq_bits[block], freq_bits[block]) + 1
    return np.cumsum(steps) - 1, freqs


def long_list(documents):
    """The postings from which a term of a file of `documents` articles is a long list: LONG, or a hundredth
    of the articles (from there its gaps, a hundred articles on average, mostly fit in a byte)."""
    return max(LONG, documents // 100)


_ESCAPE_GAP = 255  # a gap of 255 or more: its value follows the gaps (<u4), in order
_ESCAPE_FREQUENCY = 15  # a frequency of 16 or more (less one: 15): its value follows the nibbles (<u2), in order


def _encode_flat(docs, freqs):
    """A long list: whether any frequency is over one; every gap as a byte (`_ESCAPE_GAP` for a larger one,
    whose value follows); then, if so, every frequency less one as a nibble (two a byte; `_ESCAPE_FREQUENCY`
    for a larger one, whose value follows). Read back as arrays, with no bits to unpack."""
    gaps = np.diff(docs, prepend=-1) - 1
    values = freqs - 1
    counted = bool(values.max() > 0)
    parts = [np.array([counted], dtype=np.uint8), np.minimum(gaps, _ESCAPE_GAP).astype(np.uint8),
             gaps[gaps >= _ESCAPE_GAP].astype("<u4").view(np.uint8)]
    if counted:
        nibbles = np.minimum(values, _ESCAPE_FREQUENCY).astype(np.uint8)
        if len(nibbles) % 2:
            nibbles = np.append(nibbles, np.uint8(0))
        parts += [nibbles[0::2] | (nibbles[1::2] << np.uint8(4)),
                  values[values >= _ESCAPE_FREQUENCY].astype("<u2").view(np.uint8)]
    return np.concatenate(parts)


def _decode_flat(buf, at, count):
    """A long list's (article numbers, frequencies), as int32 where the numbers fit (half the bytes to write)."""
    counted = bool(buf[at])
    at += 1
    gaps = buf[at:at + count]
    at += count
    escaped = np.flatnonzero(gaps == _ESCAPE_GAP)
    larger = buf[at:at + 4 * len(escaped)].view("<u4")
    at += 4 * len(escaped)
    steps = gaps.astype(np.int32 if _ESCAPE_GAP * count + int(larger.sum()) < 2 ** 31 else np.int64)
    steps[escaped] = larger
    steps += 1
    freqs = np.ones(count, dtype=np.int32)
    if counted:
        packed = buf[at:at + (count + 1) // 2]
        at += len(packed)
        nibbles = np.empty(2 * len(packed), dtype=np.uint8)
        nibbles[0::2], nibbles[1::2] = packed & np.uint8(15), packed >> np.uint8(4)
        freqs += nibbles[:count]
        escaped = np.flatnonzero(nibbles[:count] == _ESCAPE_FREQUENCY)
        if len(escaped):
            freqs[escaped] = buf[at:at + 2 * len(escaped)].view("<u2").astype(np.int32) + 1
    docs = np.cumsum(steps, out=steps)
    docs -= 1
    return docs, freqs


def encode(docs, freqs, counts, long):
    """(bytes as uint8, each term's first byte and the end) of the postings of terms: `docs` ascending
    within each term, terms one after another, `counts` postings each (>= 1), `freqs` >= 1. A term of
    `long` postings or more is a flat list (`_encode_flat`), the others blocks (`_encode_blocks`)."""
    docs = np.asarray(docs, dtype=np.int64)
    freqs = np.asarray(freqs, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    longs = np.flatnonzero(counts >= long)
    if not len(longs):
        return _encode_blocks(docs, freqs, counts)
    firsts = np.cumsum(counts) - counts
    short = np.flatnonzero(counts < long)
    picked = _spans(firsts[short], counts[short], len(docs))
    data, short_offsets = _encode_blocks(docs[picked], freqs[picked], counts[short])
    flat = [_encode_flat(docs[firsts[t]:firsts[t] + counts[t]], freqs[firsts[t]:firsts[t] + counts[t]])
            for t in longs.tolist()]
    sizes = np.zeros(len(counts), dtype=np.int64)
    sizes[short] = np.diff(short_offsets)
    sizes[longs] = [len(f) for f in flat]
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    out[_spans(offsets[short], sizes[short], len(out))] = data  # the blocks' bytes, term by term
    for t, f in zip(longs.tolist(), flat):
        out[offsets[t]:offsets[t + 1]] = f
    return out, offsets


def decode(buf, offsets, counts, long):
    """(article numbers, frequencies) of the terms at `offsets` of `buf` (bytes as uint8, with 8 bytes of
    room after the last term) with `counts` postings each, one term after another; those of `long`
    postings or more flat lists, the others blocks."""
    offsets = np.asarray(offsets, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    longs = np.flatnonzero(counts >= long)
    if not len(longs):
        return _decode_blocks(buf, offsets, counts)
    if len(counts) == 1:
        return _decode_flat(buf, int(offsets[0]), int(counts[0]))
    firsts = np.cumsum(counts) - counts
    docs, freqs = np.empty(int(counts.sum()), np.int64), np.empty(int(counts.sum()), np.int64)
    short = np.flatnonzero(counts < long)
    at = _spans(firsts[short], counts[short], len(docs))
    docs[at], freqs[at] = _decode_blocks(buf, offsets[short], counts[short])
    for t in longs.tolist():
        docs[firsts[t]:firsts[t] + counts[t]], freqs[firsts[t]:firsts[t] + counts[t]] = _decode_flat(
            buf, int(offsets[t]), int(counts[t]))
    return docs, freqs


def _decode_apart(buf, offsets, counts, long):
    """`decode`'s postings term by term, [(article numbers, frequencies)] for a few terms (a folded term's
    readings): a long list as `_decode_flat` gives it, the short ones decoded together, neither copied
    into one array of them all (a sixth of the time of reading a common folded syllable)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    found = [None] * len(counts)
    short = np.flatnonzero(counts < long)
    if len(short):
        docs, freqs = _decode_blocks(buf, offsets[short], counts[short])
        ends = np.cumsum(counts[short]).tolist()
        for t, start, end in zip(short.tolist(), [0] + ends[:-1], ends):
            found[t] = docs[start:end], freqs[start:end]
    for t in np.flatnonzero(counts >= long).tolist():
        found[t] = _decode_flat(buf, int(offsets[t]), int(counts[t]))
    return found


class Terms:
    """Terms in file order, by (hash, check): their hashes (`term_hash` of their folded form, so that the
    terms one folded term stands for are side by side) and checks (the second half of their own digest,
    telling them apart), their names (UTF-8, one after another, and where each ends) and how many
    articles hold each."""

    __slots__ = ("hashes", "checks", "names", "ends", "dfs")

    def __init__(self, hashes, checks, names, ends, dfs):
        self.hashes, self.checks, self.names, self.ends, self.dfs = hashes, checks, names, ends, dfs

    def __len__(self):
        return len(self.hashes)

    @classmethod
    def of_names(cls, names, ends, dfs):
        """These terms, their digests computed (`names`: the UTF-8 blob, `ends`: each name's end)."""
        starts = ends[:-1]
        _, checks = digests(names, starts, ends[1:] - starts)
        folded = [term.encode("utf-8") for term in fold_all(_strings(names, ends))]
        lengths = np.fromiter(map(len, folded), dtype=np.int64, count=len(folded))
        hashes, _ = digests(np.frombuffer(b"".join(folded), dtype=np.uint8), np.cumsum(lengths) - lengths, lengths)
        return cls(hashes, checks, names, ends, dfs)

    @classmethod
    def joined(cls, parts):
        """The terms of `parts` one after another, as one."""
        parts = [part for part in parts if len(part)]
        if not parts:
            return _empty_terms()
        ends = [parts[0].ends[:1] * 0]
        for part in parts:
            ends.append(part.ends[1:] - part.ends[0] + ends[-1][-1])
        return cls(np.concatenate([p.hashes for p in parts]), np.concatenate([p.checks for p in parts]),
                   np.concatenate([p.names for p in parts]), np.concatenate(ends).astype(np.int64),
                   np.concatenate([p.dfs for p in parts]))

    def take(self, indices, dfs=None):
        """These terms at `indices`, with `dfs` (else their own)."""
        starts = self.ends[:-1][indices]
        lengths = self.ends[1:][indices] - starts
        ends = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ends[1:])
        return Terms(self.hashes[indices], self.checks[indices], _gather(self.names, starts, lengths), ends,
                     self.dfs[indices] if dfs is None else dfs)

    def strings(self):
        return _strings(self.names, self.ends)

    def order(self):
        """The file order of these terms, and where each group of equal terms (equal digests) starts in it:
        a term's pieces stay in the order they are given (the article order, merging)."""
        order = np.lexsort((np.arange(len(self)), self.checks, self.hashes))
        hashes, checks = self.hashes[order], self.checks[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (hashes[1:] != hashes[:-1]) | (checks[1:] != checks[:-1])
        return order, np.flatnonzero(new)


def _strings(names, ends):
    """The names in the UTF-8 blob `names` ending at `ends`, as str."""
    blob = names.tobytes()
    bounds = ends.tolist()
    return [blob[bounds[i]:bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]


def _empty_terms():
    return Terms(np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.uint8), np.zeros(1, np.int64),
                 np.zeros(0, np.int64))


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

    def postings(self):
        """(Terms, article numbers, frequencies) of the field in file order, each term's by article."""
        keys = np.concatenate(self._keys or [np.zeros(0, np.int64)])
        by_key = np.argsort(keys, kind="stable")  # each term's postings together, by article
        keys = keys[by_key]
        first = np.flatnonzero(np.diff(keys, prepend=-1))  # where each distinct key's run starts
        counts = np.diff(first, append=len(keys))
        source, starts, lengths = self._names(keys[first])
        name_lengths = lengths.sum(axis=1)
        ends = np.zeros(len(first) + 1, dtype=np.int64)
        np.cumsum(name_lengths, out=ends[1:])
        terms = Terms.of_names(_gather(source, starts.ravel(), lengths.ravel()), ends, counts)
        order, _ = terms.order()
        grouped = _gather(by_key, first[order], counts[order])  # postings by term in file order, then by article
        docs = np.repeat(np.frombuffer(self._docs, dtype=np.int64), np.frombuffer(self._counts, dtype=np.int64))
        freqs = np.concatenate(self._freqs or [np.zeros(0, np.int64)])
        return terms.take(order), docs[grouped], np.minimum(freqs[grouped], _MAX_FREQUENCY)


def _smallest(values):
    """`values` (non-negative integers) as uint32 when they fit, else uint64."""
    return values.astype(np.uint32 if not values.size or values.max() < 2 ** 32 else np.uint64)


class _Writer:
    """Writes a posting file in one pass: MAGIC, the arrays as they come, then the header saying where each is."""

    def __init__(self, f, documents, segments=None):
        self._out = _Checksummed(f)
        self._out.write(MAGIC)
        self.documents = documents
        self._header = {"documents": documents, "segments": segments, "fields": {}}

    def array(self, data):
        """Write `data` (a numpy array); returns how the header describes it: [offset, dtype, length]."""
        at = self._out.length
        self._out.write(np.ascontiguousarray(data).tobytes())
        return [at, data.dtype.str, len(data)]

    def terms(self, terms, starts):
        """Write the dictionary of `terms`, `starts` saying where each term's postings (or folded terms) start
        (and the end); returns its description. Each term's start and document frequency are side by side
        in `entries`: one read."""
        entries = np.stack([starts, np.append(terms.dfs, 0)], axis=1).ravel()
        return {"terms": len(terms), "hashes": self.array(terms.hashes), "fence": self.array(terms.hashes[::FENCE]),
                "entries": self.array(_smallest(entries)), "ends": self.array(_smallest(terms.ends)),
                "names": self.array(terms.names)}

    def field(self, name, described):
        self._header["fields"][name] = described

    def finish(self):
        head = json.dumps(self._header).encode("utf-8")
        self._out.write(head + len(head).to_bytes(8, "little"))
        self._out.finish()


class _FieldWriter:
    """One field's postings, written a step of terms at a time (in file order), then its dictionary."""

    def __init__(self, writer):
        self._writer = writer
        self.long = long_list(writer.documents)
        self._at = None
        self._bytes = 0
        self._terms, self._offsets = [], []

    def add(self, terms, docs, freqs):
        data, offsets = encode(docs, freqs, terms.dfs, self.long)
        at = self._writer.array(data)[0]
        self._at = at if self._at is None else self._at
        self._offsets.append(offsets[:-1] + self._bytes)
        self._bytes += len(data)
        self._terms.append(terms)

    def finish(self):
        """The field's description, its dictionary written."""
        terms = Terms.joined(self._terms)
        offsets = np.append(np.concatenate(self._offsets or [np.zeros(0, np.int64)]), self._bytes)
        described = self._writer.terms(terms, offsets)
        described["long"] = self.long
        described["postings"] = [self._writer.array(np.zeros(0, np.uint8))[0] if self._at is None else self._at,
                                 "|u1", self._bytes]
        return described


def write(f, fields, documents):
    """Write {field name: FieldPostings} of a segment of `documents` articles into the binary file `f` (a
    folded field, `schema.FOLDED`, is read in its source field)."""
    writer = _Writer(f, documents)
    for name in sorted(fields):
        field = _FieldWriter(writer)
        field.add(*fields[name].postings())
        writer.field(name, field.finish())
    writer.finish()


def _steps(fields):
    """The merge of `fields` ([(_Field, first article number)]) in steps: for each range of hashes, the
    (field, first article number, first term, end) of each field's terms in it."""
    size = sum(field.postings_bytes for field, _ in fields)
    terms = sum(field.terms for field, _ in fields)
    steps = max(1, -(-size // MERGE_BYTES), -(-terms // MERGE_TERMS))
    bounds = [2 ** 64 * step // steps for step in range(steps + 1)]
    cuts = [[field.position(bound) for bound in bounds] for field, _ in fields]
    for step in range(steps):
        found = [(field, offset, cut[step], cut[step + 1]) for (field, offset), cut in zip(fields, cuts)
                 if cut[step] < cut[step + 1]]
        if found:
            yield found


def _merged_terms(pieces):
    """The terms of `pieces` ([Terms], in article order) as one (their dfs summed), and the order of the
    entries of the pieces joined that groups each term's, in article order."""
    terms = Terms.joined(pieces)
    order, groups = terms.order()
    return terms.take(order[groups], np.add.reduceat(terms.dfs[order], groups) if len(groups) else None), order


def _merge_postings(writer, fields, renumbered=None):
    """The `_FieldWriter` of one field merged from `fields` ([(_Field, first article number)]).
    `renumbered`: each article's new number (-1: dropped, with its postings; a term left without any
    is dropped)."""
    out = _FieldWriter(writer)
    for step in _steps(fields):
        pieces, docs, freqs = [], [], []
        for field, offset, first, end in step:
            pieces.append(field.terms_between(first, end))
            d, q = field.postings_between(first, end)
            docs.append(d + offset)
            freqs.append(q)
        docs, freqs = np.concatenate(docs), np.concatenate(freqs)
        if renumbered is not None:  # one piece, in the parts' order, its entries' dfs counting what is kept
            joined = Terms.joined(pieces)
            entry = np.repeat(np.arange(len(joined)), joined.dfs)
            docs = renumbered[docs]
            kept = docs >= 0
            joined.dfs = np.bincount(entry[kept], minlength=len(joined))
            docs, freqs, pieces = docs[kept], freqs[kept], [joined]
        terms, order = _merged_terms(pieces)
        dfs = np.concatenate([piece.dfs for piece in pieces])
        grouped = _spans((np.cumsum(dfs) - dfs)[order], dfs[order], int(dfs.sum()))
        if len(terms):
            held = terms.dfs > 0
            out.add(terms if held.all() else terms.take(np.flatnonzero(held)), docs[grouped], freqs[grouped])
    return out


def merge(f, parts, segments, renumbered=None):
    """Write into `f` one posting file for all of `parts` ([(PostingFile, first article number)], in the
    reader's order), the articles numbered as the index reader numbers them; `segments` are the ids
    of the segments it covers, in that order. `renumbered`: each article's number in the file written
    (-1: left out), when articles are dropped (`index.store.directory.compact`)."""
    if renumbered is None:
        documents = max((offset + part.documents for part, offset in parts), default=0)
    else:
        renumbered = np.asarray(renumbered, dtype=np.int64)
        documents = int(renumbered.max(initial=-1)) + 1
    names = sorted({name for part, _ in parts for name in part._fields})
    writer = _Writer(f, documents, segments)
    for name in names:
        field = _merge_postings(writer, [(part._fields[name], offset) for part, offset in parts
                                         if name in part._fields], renumbered)
        writer.field(name, field.finish())
    writer.finish()


class _Checksummed:
    """Writes through to `f`, keeping the CRC-32 of each PAGE; `finish` appends them and the footer."""

    def __init__(self, f):
        self._f = f
        self._page = bytearray()
        self._sums = array("I")
        self.length = 0

    def write(self, data):
        self._f.write(data)
        self.length += len(data)
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
        self._f.write(_FOOTER.pack(FOOTER_MAGIC, self.length, zlib.crc32(table)))


def _spans(starts, lengths, size):
    """The indices starts[0], ..., starts[0] + lengths[0] - 1, starts[1], ... into an array of `size`."""
    ends = np.cumsum(lengths)
    kind = np.int32 if size < 2 ** 31 else np.int64  # the index costs half the memory
    return (np.arange(int(ends[-1]) if len(ends) else 0, dtype=kind)
            + np.repeat((starts - ends + lengths).astype(kind), lengths))


def _gather(data, starts, lengths):
    """data[starts[0]:starts[0] + lengths[0]] + data[starts[1]:...] + ..., in one indexing."""
    return data[_spans(starts, lengths, len(data))]


class _Field:
    """One field of a posting file: its fence in memory, the rest read on demand."""

    def __init__(self, file, described):
        self._file = file
        self.terms = described["terms"]
        self.long = described.get("long")  # postings from which a term's list is flat
        self._arrays = {key: value for key, value in described.items() if isinstance(value, list)}
        self.postings_bytes = self._arrays["postings"][2] if "postings" in self._arrays else 0
        self.fence = self._read("fence")

    def _read(self, key, start=0, end=None):
        at, dtype, length = self._arrays[key]
        dtype = np.dtype(dtype)
        end = length if end is None else end
        if not 0 <= start <= end <= length:
            raise IndexDamaged(self._file.path, f"a read of {key} [{start}:{end}] past its {length} items")
        return self._file.read(at + dtype.itemsize * start, dtype, end - start)

    def entries(self, first, end):
        """Terms `first` to `end`'s (where their postings start, document frequency), as int64."""
        return self._read("entries", 2 * first, 2 * end).reshape(-1, 2).astype(np.int64)

    def run(self, key):
        """(first, end, names): the terms whose hash is `key` (the terms of one folded form, `Terms`) and
        their names (UTF-8): a handful of reads however many there are."""
        first = max(int(self.fence.searchsorted(key)) - 1, 0) * FENCE  # `key`'s run starts in this block or next
        start = end = None
        while first < self.terms:
            block = self._read("hashes", first, min(first + 2 * FENCE, self.terms))
            if start is None:
                start = first + int(block.searchsorted(key))
            end = first + int(block.searchsorted(key, side="right"))
            if end < first + len(block):
                break
            first += len(block)
        if start is None or start == end:
            return 0, 0, []
        ends = self._read("ends", start, end + 1).astype(np.int64)
        blob = self._file.pread(int(ends[-1] - ends[0]), self._arrays["names"][0] + int(ends[0]))
        bounds = (ends - ends[0]).tolist()
        return start, end, [blob[bounds[i]:bounds[i + 1]] for i in range(end - start)]

    def find(self, name, key):
        """The index of the term `name` (UTF-8) whose hash is `key`, or None."""
        first, _, names = self.run(key)
        return next((first + i for i, found in enumerate(names) if found == name), None)

    def position(self, key):
        """The index of the first term whose hash is `key` or more (`key` up to 2 ** 64)."""
        if key >= 2 ** 64:
            return self.terms
        block = int(self.fence.searchsorted(np.uint64(key)))
        if block == 0:
            return 0
        first = (block - 1) * FENCE
        hashes = self._read("hashes", first, min(first + FENCE, self.terms))
        return first + int(hashes.searchsorted(np.uint64(key)))

    def terms_between(self, first, end):
        """Terms `first` to `end` (their checks computed from their names)."""
        ends = self._read("ends", first, end + 1).astype(np.int64)
        names = self._file.read(self._arrays["names"][0] + int(ends[0]), np.uint8, int(ends[-1] - ends[0]))
        terms = Terms.of_names(names, ends - ends[0], self.entries(first, end)[:, 1])
        if not np.array_equal(terms.hashes, self._read("hashes", first, end)):
            raise IndexDamaged(self._file.path, "its term hashes do not match their names")
        return terms

    def postings_between(self, first, end):
        """(article numbers, frequencies) of terms `first` to `end`, one term after another."""
        return decode(*self._encoded(first, end), self.long)

    def _encoded(self, first, end):
        """The bytes of terms `first` to `end`'s postings, read at once (as uint8, with 8 bytes of room after
        the last), where each term's start in them and how many postings each has."""
        entries = self.entries(first, end + 1)
        offsets, counts = entries[:, 0], entries[:-1, 1]
        data = self._file.pread(int(offsets[-1] - offsets[0]), self._arrays["postings"][0] + int(offsets[0]))
        return np.frombuffer(data + bytes(8), dtype=np.uint8), offsets[:-1] - offsets[0], counts

    def folded(self, folded, key):
        """[(name, article numbers, frequencies)] of each term whose folded form is `folded` (a str) and hash
        `key`: the terms side by side, their postings read at once."""
        first, end, names = self.run(key)
        names = [name.decode("utf-8") for name in names]
        kept = [i for i, name in enumerate(names) if fold(name) == folded]
        if not kept:
            return []
        buf, offsets, counts = self._encoded(first, end)  # (with any of another form: not decoded)
        found = _decode_apart(buf, offsets[kept], counts[kept], self.long)
        return [(names[i], docs, freqs) for i, (docs, freqs) in zip(kept, found)]

    def frequencies(self):
        """{term: document frequency}."""
        ends = self._read("ends").tolist()
        blob = self._file.pread(ends[-1], self._arrays["names"][0])
        counts = self.entries(0, self.terms)[:, 1].tolist()
        return {blob[ends[i]:ends[i + 1]].decode("utf-8"): counts[i] for i in range(self.terms)}


def _folder(segment_reader):
    """The folder of a segment reader's files (None for an empty index or an index in memory)."""
    return getattr(getattr(segment_reader, "_storage", None), "folder", None)


class _File:
    """An open posting file read with `pread` (safe to share between threads), closed with its last
    reference. Opening checks the footer and the page checksums' table; every read, the pages it covers."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        # closed with its last reference; not at exit, where a read-ahead thread may still be reading it
        weakref.finalize(self, os.close, self.fd).atexit = False
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
        self.path = path
        file = _File(path)
        if file.pread(len(MAGIC), 0) != MAGIC:
            raise IndexDamaged(path, "not a posting file of this version")
        length = int.from_bytes(file.pread(8, file.end - 8), "little") if file.end >= len(MAGIC) + 8 else -1
        try:
            if not 0 <= length <= file.end - len(MAGIC) - 8:
                raise ValueError(f"a header of {length} bytes")
            header = json.loads(file.pread(length, file.end - 8 - length))
            self.documents = header["documents"]
            self.segments = header["segments"]
            self._fields = {name: _Field(file, described) for name, described in header["fields"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:  # checksums right, content not ours
            raise IndexDamaged(path, f"its header cannot be read: {e}") from None

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
        """The merged posting file covering the first segments of the index `reader` reads (as an indexing
        run merged them), or None."""
        leaves = reader.leaf_readers()
        return merged_file(_folder(leaves[0][0]), [leaf.segment() for leaf, _ in leaves])

    def has_field(self, field):
        return FOLDED.get(field, field) in self._fields

    def readings(self, field, term, key=None):
        """The terms `term` (a str) stands for in `field`, with their postings: [(name, article numbers, as
        the file counts them, ascending; frequencies)]: itself, or for a folded field (`schema.FOLDED`, read
        in its source field) each term it folds, an article perhaps in several; none the file holds.
        `key`: `term_key(term)`, when computed once for all segments."""
        found = self._fields.get(FOLDED.get(field, field))
        if found is None:
            return []
        key = np.uint64(term_key(term) if key is None else key)
        if field in FOLDED:
            return found.folded(term, key)
        at = found.find(term.encode("utf-8"), key)
        return [] if at is None else [(term, *found.postings_between(at, at + 1))]

    def frequencies(self, field):
        """{term: how many articles of the file hold it} in `field` (not a folded one: it keeps no counts)."""
        if field in FOLDED:
            raise ValueError(f"{field} is folded: its terms' document frequencies are not kept")
        return self._fields[field].frequencies()


def exists(folder, segment):
    """Whether the Whoosh `segment` has its own posting file."""
    return os.path.exists(os.path.join(folder, segment.make_filename(EXTENSION)))


def merged_file(folder, segments):
    """The merged posting file named after the first of a commit's Whoosh `segments` (in order) when the
    segments it covers are the first of them (the segments after them have their own), else None.

    A file covering other segments was merged for another commit: a newer one (its segments' own
    files are deleted; `Engine.current` moves on to that commit), or one a later run replaced."""
    if folder is None or not segments or segments[0] is None:
        return None
    path = os.path.join(folder, segments[0].make_filename(MERGED))
    if not os.path.exists(path):
        return None
    found = PostingFile(path)
    covers = found.segments or []
    return found if covers and covers == [segment.segment_id() for segment in segments[:len(covers)]] else None


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
    is written: a query then looks a term up once instead of once per segment. Returns the segments'
    own posting files the merged file makes redundant, to delete once the commit is written.

    The files merged are the last merged file, where it covers the first segments, and the others'
    own. Written to a temporary name and renamed: readers of the previous commit keep the file they
    opened, and a crash leaves nothing a reader would take (the file names the segments it covers).
    Does nothing when a segment has neither.
    """
    merged = merged_file(folder, segments)
    covered = len(merged.segments) if merged is not None else 0
    parts = [(merged, 0)] if merged is not None else []
    offset = sum(segment.doc_count_all() for segment in segments[:covered])
    own = []
    for segment in segments[covered:]:
        path = os.path.join(folder, segment.make_filename(EXTENSION))
        if not os.path.exists(path):
            return []
        parts.append((PostingFile(path), offset))
        own.append(path)
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
    return own
