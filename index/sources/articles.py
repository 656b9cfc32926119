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
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from index.analysis.normalize import nfc
from index.sources import rawtext
from index.sources.dates import parse_date

MAX_ARTICLE_BYTES = 5 * 1024 * 1024
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
        return nfc(_LONE_SURROGATES.sub("\ufffd", value.strip())) if isinstance(value, str) else value


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


def read_text_article(path, article_id):
    """One raw `.txt` page as an Article (or a Problem)."""
    origin = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_ARTICLE_BYTES:
            return Problem(origin, f"{size // (1024 * 1024)} MB is too large for one article "
                                   f"(limit {MAX_ARTICLE_BYTES // (1024 * 1024)} MB); split it or use JSON lines")
        text = nfc(decode(Path(path).read_bytes()))
        if not text.strip():
            return Problem(origin, "empty file")
        page = rawtext.parse(text)
    except (OSError, ValueError) as e:
        return Problem(origin, str(e))
    return Article(id=article_id, title=page.title, lead=page.lead, body=page.body, date=page.date,
                   source=page.source, author=page.author, origin=origin)


def _record_article(record, fields, origin):
    if not isinstance(record, dict):
        return Problem(origin, "not a JSON object")
    article_id = fields.get(record, "id")
    if article_id is None or str(article_id).strip() == "":
        return Problem(origin, f"no {fields.names.get('id', 'id')!r} field")
    text = {name: fields.get(record, name) for name in ("title", "sapo", "body")}
    for name, value in text.items():
        if value is not None and not isinstance(value, str):
            return Problem(origin, f"field {fields.names.get(name, name)!r} is not a string")
    if not any(text.values()):
        return Problem(origin, "no text (title, sapo and body are empty)")
    date_value = fields.get(record, "date")
    date = parse_date(date_value)
    locality = fields.get(record, "locality") or fields.get(record, "province")

    def optional(name):
        value = fields.get(record, name)
        return str(value) if value not in (None, "") else None

    return Article(id=str(article_id).strip(), title=text["title"] or "", lead=text["sapo"] or "",
                   body=text["body"] or "", date=date, source=optional("source"), author=optional("author"),
                   url=optional("url"), category=optional("category"),
                   locality=locality if isinstance(locality, str) else None, origin=origin)


def read_records(path, fields=None):
    """Articles from a `.jsonl` or `.jsonl.gz` file, one per line; bad lines become Problems."""
    fields = fields or FieldMap()
    opener = gzip.open if str(path).endswith(".gz") else open
    number = 0
    try:
        with opener(path, "rb") as stream:
            for number, raw in enumerate(stream, 1):
                origin = f"{path}:{number}"
                if not raw.strip():
                    continue
                try:
                    record = json.loads(decode(raw))
                except ValueError as e:
                    yield Problem(origin, f"not a JSON record ({e})")
                    continue
                yield _record_article(record, fields, origin)
    except (OSError, EOFError, zlib.error) as e:
        yield Problem(f"{path}:{number + 1}", f"cannot read further: {e}")


def text_files(folder):
    """The `.txt` articles under `folder`, recursively, in a stable order."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".txt") and not name.startswith("."):
                yield Path(root) / name


def read(paths, fields=None):
    """Every article under `paths` (files or folders), in a stable order."""
    for path in map(Path, paths):
        if path.is_dir():
            for file in text_files(path):
                yield read_text_article(file, file.relative_to(path).with_suffix("").as_posix())
        elif path.name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")):
            yield from read_records(path, fields)
        elif path.suffix == ".txt":
            yield read_text_article(path, path.stem)
        elif not path.exists():
            yield Problem(str(path), "no such file or folder")
        else:
            yield Problem(str(path), "not an article file (expected .txt, .jsonl or .jsonl.gz, or a folder)")
