"""Stored fields in blocks (index/store/stored.py): every value an article was stored with reads back the
same, in any order, across blocks; a damaged file is named; an index from before the format is refused."""

import os
import random
import shutil

import pytest
from whoosh import index as whoosh_index

from index.store import builder, stored
from index.store.directory import IndexDamaged, RebuildNeeded, open_index, write_sums
from index.store.schema import make_schema
from index.store.stored import StoredFields, StoredFile
from index.writer import index_articles
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import SEEDS, write_jsonl

SPELLINGS = ["Nông dân thu hoạch lúa", "Hòa hoà HOÀ thuỷ thủy", "ĐẢNG VIÊN", "e\u0301 (combining)", "😀 𝔘𝔫𝔦",
             "\t\n ", ""]


def stored_index(folder, records):
    """A one-segment index on disk of `records` (stored fields only), written by the segment builder."""
    ix = whoosh_index.create_in(str(folder), make_schema())
    segment_builder = builder.SegmentBuilder(ix)
    for record in records:
        segment_builder.add(record, {})  # no title or text field: no terms to index
    segment = segment_builder.finish()
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc([segment])
    writer._finish()
    return ix


def varied_records(n, seed=18):
    rng = random.Random(seed)
    records = []
    for i in range(n):
        words = rng.choices(SPELLINGS, k=rng.randrange(0, 400))
        records.append({
            "id": f"a{i}", "body": " ".join(words), "lead": rng.choice(SPELLINGS),
            "published": None if i % 3 else f"2017-05-{1 + i % 28:02d}T08:30:00+07:00",
            "source": rng.choice([None, "", "Báo Nhân Dân", "😀"]), "author": None, "url": f"https://ví.dụ/{i}",
            "category": "", "region": "Miền Tây", "province": "Cần Thơ", "district": "Cần Thơ|Ninh Kiều",
            "province_2025": "", "locality_confidence": rng.choice([None, 0.0, 0.75, 1.0]),
        })
    return records


def as_stored(record):
    """What reading `record` back gives: every value but None, as it was."""
    return {name: value for name, value in record.items() if value is not None}


def segment_file(ix):
    return StoredFile(os.path.join(ix.storage.folder, ix._segments()[0].make_filename(stored.EXTENSION)))


def test_every_stored_value_reads_back_as_stored_in_any_order(tmp_path):
    records = varied_records(1500)
    records[700]["body"] = "Một bài rất dài về giá lúa ở Cần Thơ. " * 30000  # 1.2 MB: a block of its own
    records[701] = {"id": "bare"}  # nothing stored but its id
    ix = stored_index(tmp_path, records)
    file = segment_file(ix)
    assert file.blocks > 20 and file.documents == len(records)
    with ix.reader() as reader:
        fields = StoredFields(reader)
        order = list(range(len(records)))
        random.Random(1).shuffle(order)
        for n in order:
            assert fields.fields(n) == as_stored(records[n]), n
        assert list(fields.live(reader)) == [as_stored(r) for r in records]


def test_the_articles_on_both_sides_of_each_block_boundary(tmp_path):
    records = varied_records(600, seed=3)
    ix = stored_index(tmp_path, records)
    file = segment_file(ix)
    with ix.reader() as reader:
        fields = StoredFields(reader, cached=0)
        for block in range(1, file.blocks):
            first = file.first(block)
            assert first > file.first(block - 1)
            assert [fields.fields(n)["id"] for n in (first - 1, first)] == [f"a{first - 1}", f"a{first}"]
        assert fields.fields(len(records) - 1) == as_stored(records[-1])
        with pytest.raises(IndexError):
            fields.fields(len(records))


@pytest.mark.parametrize("count", [1, 5, stored.SAMPLE, stored.SAMPLE + 1])
def test_a_segment_of_a_few_articles(tmp_path, count):
    """Fewer articles than the dictionary's sample, or just as many: read back all the same."""
    records = varied_records(count, seed=count)
    ix = stored_index(tmp_path, records)
    with ix.reader() as reader:
        assert [StoredFields(reader).fields(n) for n in range(count)] == [as_stored(r) for r in records]


def test_each_reader_gets_its_own_copy(seeds_index):
    with Engine(seeds_index) as engine:
        first = engine.article("000_abc709b6f580d3e9")
        first["title"] = "changed"
        assert engine.article("000_abc709b6f580d3e9")["title"] != "changed"


def test_an_article_replaced_in_a_later_run_reads_as_its_new_version(tmp_path):
    index_dir = tmp_path / "ix"
    records = [{"id": f"r{i}", "title": f"Tin {i}", "body": f"Bài số {i} về lúa."} for i in range(150)]
    index_articles([write_jsonl(tmp_path / "a.jsonl", records)], index_dir, workers=1)
    records[70]["body"] = "Bản mới của bài 70."
    index_articles([write_jsonl(tmp_path / "b.jsonl", records)], index_dir, workers=1)
    with Engine(index_dir) as engine:
        assert engine.article("r70")["body"] == "Bản mới của bài 70."
        assert engine.article("r71")["body"] == "Bài số 71 về lúa."
        hits = engine.search(SearchRequest(q="bản mới")).hits
        assert [(hit.id, hit.snippet) for hit in hits][:1] == [("r70", "<mark>Bản mới</mark> của bài 70.")]
        searcher, commit = engine.current()
        bodies = [fields["body"] for fields in commit.stored.live(searcher.reader()) if fields["id"] == "r70"]
        assert bodies == ["Bản mới của bài 70."]


def test_a_compacted_index_holds_each_article_once_as_last_written(tmp_path):
    index_dir = tmp_path / "ix"
    records = [{"id": f"r{i}", "title": f"Tin {i}", "body": f"Bài số {i} về lúa."} for i in range(300)]
    index_articles([write_jsonl(tmp_path / "a.jsonl", records)], index_dir, workers=2)
    for record in records[100:200]:
        record["body"] = f"Bản mới của bài {record['id']}."
    summary = index_articles([write_jsonl(tmp_path / "b.jsonl", records[100:200])], index_dir, workers=1)
    assert summary.compacted == 100
    with Engine(index_dir) as engine:
        assert [engine.article(r["id"])["body"] for r in records] == [r["body"] for r in records]
        searcher, commit = engine.current()
        assert sorted(f["id"] for f in commit.stored.live(searcher.reader())) == sorted(r["id"] for r in records)
    open_index(index_dir)  # its files check


# ---- damage ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A stored-fields file of many blocks, and what it holds."""
    folder = tmp_path_factory.mktemp("stored")
    records = varied_records(400, seed=7)
    ix = stored_index(folder, records)
    return segment_file(ix).path, records


def damaged(written, tmp_path, change):
    path = tmp_path / os.path.basename(written)
    data = bytearray(open(written, "rb").read())
    change(data)
    path.write_bytes(bytes(data))
    return path


def _overwrite(at):
    def change(data):
        where = at(len(data))
        data[where:where + 16] = bytes(b ^ 0xFF for b in data[where:where + 16])
    return change


OPENING = {
    "half": lambda data: data.__delitem__(slice(len(data) // 2, None)),
    "10 bytes": lambda data: data.__delitem__(slice(10, None)),
    "empty": lambda data: data.clear(),
    "footer": _overwrite(lambda size: size - 20),
    "table of blocks": _overwrite(lambda size: size - 60),
    "dictionary": _overwrite(lambda size: 100),
    "one byte more": lambda data: data.extend(b"\0"),
}


@pytest.mark.parametrize("damage", list(OPENING))
def test_a_damaged_file_is_named_when_opened(written, tmp_path, damage):
    path = damaged(written[0], tmp_path, OPENING[damage])
    with pytest.raises(IndexDamaged, match=f"{path.name} is damaged .*vnsearch index --rebuild"):
        StoredFile(path)


def test_a_damaged_block_is_named_when_read_and_the_others_still_read(written, tmp_path):
    source, records = written
    file = StoredFile(source)
    middle = file.blocks // 2
    start = file._offsets[middle]
    path = damaged(source, tmp_path, _overwrite(lambda size: start + 10))
    file = StoredFile(path)
    with pytest.raises(IndexDamaged, match=f"{path.name} is damaged \\(block {middle} does not match its checksum"):
        file.block(middle)
    assert len(file.block(middle + 1)) == file.first(middle + 2) - file.first(middle + 1)


def test_a_file_overwritten_after_opening_is_found_when_its_blocks_are_read(seeds_index, tmp_path):
    index_dir = tmp_path / "ix"
    shutil.copytree(seeds_index, index_dir)
    path = next(index_dir.glob("*" + stored.EXTENSION))
    with Engine(index_dir, recent_results=0) as engine:
        engine.current()
        data = bytearray(path.read_bytes())
        data[len(stored.MAGIC) + 40:len(data) - 200] = bytes(len(data) - 240 - len(stored.MAGIC))
        path.write_bytes(bytes(data))  # in place: the engine's open file sees it
        with pytest.raises(IndexDamaged, match=f"{path.name} is damaged .*checksum"):
            engine.search(SearchRequest(q="nông dân"))


def test_a_deleted_file_is_named_as_missing(copy_of_seeds_index):
    path = next(copy_of_seeds_index.glob("*" + stored.EXTENSION))
    path.unlink()
    with pytest.raises(IndexDamaged, match=f"{path.name} is damaged \\(missing\\)"):
        open_index(copy_of_seeds_index)


# ---- versions ----------------------------------------------------------------------------------------------


def _as_predecessor(index_dir, change):
    """Change each segment's stored-fields file (`change(path)`), and sign the segment's files again as
    the version that wrote them would have."""
    ix = whoosh_index.open_dir(str(index_dir))
    for segment in ix._segments():
        change(index_dir / segment.make_filename(stored.EXTENSION))
        write_sums(str(index_dir), segment)


@pytest.mark.parametrize("version", ["without stored-fields files", "stored-fields files of another format"])
def test_an_index_of_another_version_asks_for_a_rebuild(copy_of_seeds_index, version):
    if version == "without stored-fields files":
        _as_predecessor(copy_of_seeds_index, os.remove)
    else:
        _as_predecessor(copy_of_seeds_index, lambda path: path.write_bytes(
            path.read_bytes().replace(stored.MAGIC, b"VNSTOR00", 1)))
    with pytest.raises(RebuildNeeded, match="another version of vnsearch; run `vnsearch index --rebuild`"):
        open_index(copy_of_seeds_index)
    with pytest.raises(RebuildNeeded, match="--rebuild"):
        index_articles([SEEDS], copy_of_seeds_index, workers=1)
    assert index_articles([SEEDS], copy_of_seeds_index, workers=1, rebuild=True).indexed == 5
    with Engine(copy_of_seeds_index) as engine:
        assert engine.article("000_abc709b6f580d3e9")["title"]
