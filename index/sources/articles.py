"""Reading articles from disk: raw `.txt` pages, folders of them, and JSON lines records.

A reader never stops at a bad file: it yields a `Problem` naming the file (and
line) and goes on, so one broken record never costs the others.

Encodings: UTF-8 (with or without a BOM) is read; UTF-16 with a BOM is read too,
since the BOM says unambiguously what it is. Anything else (cp1258, Latin-1,
UTF-16 without BOM, binary) is refused rather than guessed at: a wrong guess
would index mojibake that no query finds.
"""

import gzip
import hashlib
import io
import json
import os
import re
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from index.analysis.normalize import nfc
from index.sources import rawtext
from index.sources.dates import parse_date

MAX_ARTICLE_BYTES = 5 * 1024 * 1024
MAX_RECORD_BYTES = MAX_ARTICLE_BYTES  # one JSON lines record (one line): read with this bound, never whole
_SKIP_CHUNK = 1024 * 1024  # what is read at a time of a record over the limit, to find where it ends
# Control characters (C0 but tab and line breaks, DEL, C1) are no text: a NUL in a record would reach the page.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# JSON may escape half a surrogate pair ("\ud800"), which no UTF-8 text can hold.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")
RECORD_FIELDS = ("id", "title", "sapo", "body", "date", "url", "source", "author", "category", "province", "locality")


@dataclass
class Article:
    """One news article, as the index stores it."""

    id: str
    title: str = ""
    lead: str = ""
    body: str = ""
    date: object = None  # index.dates.Published
    source: str = None
    author: str = None
    url: str = None
    category: str = None
    locality: str = None  # the record's own province/locality field, if it has one
    origin: str = ""  # where it was read from: "path" or "path:line"
    notices: list = field(default_factory=list)  # Problems of the record that did not stop it being indexed

    @property
    def text(self):
        """Lead and body as one text: what is searched, and what snippet offsets point into."""
        return "\n\n".join(part for part in (self.lead, self.body) if part)

    @property
    def content_hash(self):
        """Changes whenever anything indexed changes, so unchanged articles are skipped."""
        payload = json.dumps([self.title, self.lead, self.body, self.date and self.date.isoformat(), self.source,
                              self.author, self.url, self.category, self.locality], ensure_ascii=False)
        return hashlib.blake2b(payload.encode("utf-8"), digest_size=12).hexdigest()

    def as_record(self):
        return {
            "id": self.id, "title": self.title, "date": self.date.isoformat() if self.date else None,
            "source": self.source, "author": self.author, "url": self.url, "category": self.category,
            "lead": self.lead, "body": self.body,
        }


@dataclass
class Problem:
    """A file or record that could not be read, and why."""

    origin: str
    message: str

    def __str__(self):
        return f"{self.origin}: {self.message}"


@dataclass
class FieldMap:
    """Which record field holds each article field (`--map body=text`)."""

    names: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, pairs):
        names = {}
        for pair in pairs or ():
            ours, sep, theirs = pair.partition("=")
            if not sep or ours not in RECORD_FIELDS or not theirs:
                raise ValueError(f"--map {pair!r}: expected NAME=FIELD with NAME one of {', '.join(RECORD_FIELDS)}")
            names[ours] = theirs
        return cls(names)

    def get(self, record, name):
        value = record.get(self.names.get(name, name))
        if value is None:
            return None
        if not isinstance(value, str):
            return value
        return nfc(_CONTROLS.sub("", _LONE_SURROGATES.sub("\ufffd", value)).strip())


def decode(data):
    """Bytes of a text file to str, or ValueError saying why they are not text we read."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ValueError(f"broken UTF-16 at byte {e.start}") from None
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"line {line}: not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "convert it first, e.g. iconv -f cp1258 -t utf-8") from None


_NOT_REGULAR = "not a regular file (a FIFO, device or socket): not read"


def open_regular(path):
    """`path` opened for reading in binary, or ValueError when it is not a regular file.

    A FIFO, device or socket is no article file, and opening a FIFO for reading would wait for a
    writer forever: such a path is refused on its `stat`, never opened; in case it is replaced by one
    meanwhile, the file is opened without blocking and checked again before anything is read.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(_NOT_REGULAR)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(_NOT_REGULAR)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text_article(path, article_id):
    """One raw `.txt` page as an Article (or a Problem)."""
    origin = str(path)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_ARTICLE_BYTES:
                return Problem(origin, f"{size // (1024 * 1024)} MB is too large for one article "
                                       f"(limit {MAX_ARTICLE_BYTES // (1024 * 1024)} MB); split it or use JSON lines")
            data = f.read(MAX_ARTICLE_BYTES + 1)
        text = nfc(decode(data))
        if not text.strip():
            return Problem(origin, "empty file")
        page = rawtext.parse(text)
    except (OSError, ValueError) as e:
        return Problem(origin, str(e))
    return Article(id=article_id, title=page.title, lead=page.lead, body=page.body, date=page.date,
                   source=page.source, author=page.author, origin=origin)


class _Refused(ValueError):
    """A record field whose value is of a kind no article field holds."""


def _scalar(fields, record, name):
    """A record field that must be text (a number is taken as its digits), or None when absent or empty."""
    value = fields.get(record, name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        kind = {bool: "a boolean", dict: "an object", list: "a list"}.get(type(value), type(value).__name__)
        raise _Refused(f"field {fields.names.get(name, name)!r} is {kind}, not text")
    return str(value)


def _record_article(record, fields, origin):
    if not isinstance(record, dict):
        return Problem(origin, "not a JSON object")
    try:
        article_id = _scalar(fields, record, "id")
        optional = {name: _scalar(fields, record, name) for name in ("source", "author", "url", "category")}
    except _Refused as e:
        return Problem(origin, str(e))
    if article_id is None or article_id.strip() == "":
        return Problem(origin, f"no {fields.names.get('id', 'id')!r} field")
    text = {name: fields.get(record, name) for name in ("title", "sapo", "body")}
    for name, value in text.items():
        if value is not None and not isinstance(value, str):
            return Problem(origin, f"field {fields.names.get(name, name)!r} is not a string")
    if not any(text.values()):
        return Problem(origin, "no text (title, sapo and body are empty)")
    date_value = fields.get(record, "date")
    date = parse_date(date_value) if isinstance(date_value, str) else None
    notices = []
    if date is None and date_value not in (None, ""):
        notices.append(Problem(origin, f"field {fields.names.get('date', 'date')!r}: {json.dumps(date_value)[:40]} "
                                       "is not a date; indexed without one"))
    locality = fields.get(record, "locality") or fields.get(record, "province")
    return Article(id=article_id.strip(), title=text["title"] or "", lead=text["sapo"] or "",
                   body=text["body"] or "", date=date, **optional,
                   locality=locality if isinstance(locality, str) else None, origin=origin, notices=notices)


def record_lines(path):
    """(line number, line) of a `.jsonl` (or `.gz`) file; a line over MAX_RECORD_BYTES is None.

    A line is never read whole beyond the limit (a 200 MB line costs 1 MB of memory at a time).
    UTF-16 with a BOM is read as text (its lines as str), anything else as bytes for `decode`.
    """
    with open_regular(path) as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if str(path).endswith(".gz") else raw
        limit, newline = MAX_RECORD_BYTES, b"\n"
        if stream.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
            stream = io.TextIOWrapper(stream, encoding="utf-16", newline="")
            limit, newline = limit // 2, "\n"
        number = 0
        while line := stream.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith(newline):
                while line and not line.endswith(newline):
                    line = stream.readline(_SKIP_CHUNK)
                line = None
            yield number, line


def read_records(path, fields=None):
    """Articles from a `.jsonl` or `.jsonl.gz` file, one per line; bad lines become Problems."""
    fields = fields or FieldMap()
    number = 0
    try:
        for number, raw in record_lines(path):
            origin = f"{path}:{number}"
            if raw is None:
                yield Problem(origin, f"record over the {MAX_RECORD_BYTES / (1024 * 1024):g} MB limit "
                                      "(a line is one article): skipped")
                continue
            if not raw.strip():
                continue
            try:
                record = json.loads(decode(raw) if isinstance(raw, bytes) else raw)
            except ValueError as e:
                yield Problem(origin, f"not a JSON record ({e})")
                continue
            yield _record_article(record, fields, origin)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        yield Problem(f"{path}:{number + 1}" if number else str(path), f"cannot read further: {e}")


def count_records(path):
    """How many records a JSON lines file holds, as far as it can be read (the progress bar's total)."""
    count = 0
    try:
        for _, raw in record_lines(path):
            count += raw is None or bool(raw.strip())
    except (OSError, EOFError, zlib.error, ValueError):
        count += 1
    return count


def text_files(folder):
    """The `.txt` articles under `folder`, recursively, in a stable order, and a Problem for each
    subfolder that could not be read (its articles are not indexed: the run says so)."""
    unreadable = []
    for root, dirs, files in os.walk(folder, onerror=unreadable.append):
        yield from _folder_problems(unreadable)
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".txt") and not name.startswith("."):
                yield Path(root) / name
    yield from _folder_problems(unreadable)


def _folder_problems(errors):
    while errors:
        e = errors.pop(0)
        yield Problem(str(e.filename), f"folder not read: {e.strerror or e}")


def read(paths, fields=None):
    """Every article under `paths` (files or folders), in a stable order."""
    for path in map(Path, paths):
        if path.is_dir():
            for file in text_files(path):
                if isinstance(file, Problem):
                    yield file
                else:
                    yield read_text_article(file, file.relative_to(path).with_suffix("").as_posix())
        elif path.name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")):
            yield from read_records(path, fields)
        elif path.suffix == ".txt":
            yield read_text_article(path, path.stem)
        elif not path.exists():
            yield Problem(str(path), "no such file or folder")
        else:
            yield Problem(str(path), "not an article file (expected .txt, .jsonl or .jsonl.gz, or a folder)")
