"""Hostile input files (issue 19): each bad file or record is named (file, line) and skipped, what is
around it indexed, and nothing blocks, dies or reaches the page unfiltered."""

import gzip
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
from whoosh import index as whoosh_index

from index.sources import articles
from index.store.directory import known_hashes
from index.writer import estimate_total, index_articles
from search.engine import Engine
from tests.conftest import write_jsonl

MB = 1024 * 1024


def records(n, start=0):
    return [{"id": f"r{i}", "title": f"Nông dân thu hoạch lúa số {i}", "body": f"Bài số {i} về mùa vụ."}
            for i in range(start, start + n)]


def ids_in(index_dir):
    return set(known_hashes(whoosh_index.open_dir(str(index_dir))))


def run_cli(*args):
    """`vnsearch` as a user runs it: (exit status, what it wrote to stderr)."""
    out = subprocess.run([sys.executable, "-m", "webui.cli", *map(str, args)], capture_output=True, text=True,
                         timeout=300)
    return out.returncode, out.stderr


def test_a_damaged_gzip_stream_is_named_and_what_was_read_before_it_kept(tmp_path):
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records(3000))
    data = bytearray(gzip.compress(lines.encode("utf-8")))
    middle = len(data) // 2
    data[middle:middle + 64] = b"\xff" * 64  # the deflate stream broken half-way (zlib: invalid block type)
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(bytes(data))
    assert 0 < estimate_total([path]) <= 3000  # the progress bar's count does not die on it either
    status, err = run_cli("--index-dir", tmp_path / "ix", "index", "--workers", "1", path)
    assert status == 1
    assert f"skipped {path}:" in err and "cannot read further" in err
    kept = ids_in(tmp_path / "ix")
    assert len(kept) > 100 and kept <= {f"r{i}" for i in range(3000)}
    assert kept == {f"r{i}" for i in range(len(kept))}  # every record before the damage


def test_an_unreadable_subfolder_is_reported_and_counted_as_skipped(tmp_path):
    folder = tmp_path / "in"
    (folder / "closed").mkdir(parents=True)
    (folder / "open.txt").write_text("Nông dân thu hoạch lúa\n\nBài về mùa vụ ở Cần Thơ.", "utf-8")
    (folder / "closed" / "hidden.txt").write_text("Đảng viên họp\n\nBài không đọc được.", "utf-8")
    (folder / "closed").chmod(0)
    try:
        if os.geteuid() == 0:  # root reads any folder: run without the capabilities that let it
            if not shutil.which("setpriv"):
                pytest.skip("needs setpriv to run as root without reading every folder")
            prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
        else:
            prefix = []
        out = subprocess.run([*prefix, sys.executable, "-m", "webui.cli", "--index-dir", str(tmp_path / "ix"),
                              "index", "--workers", "1", str(folder)], capture_output=True, text=True, timeout=300)
    finally:
        (folder / "closed").chmod(0o755)
    assert out.returncode == 1
    assert f"skipped {folder / 'closed'}: folder not read: Permission denied" in out.stderr
    assert "1 indexed, 0 updated, 0 unchanged, 1 skipped" in out.stderr


def test_a_record_over_the_size_limit_is_named_and_the_records_around_it_indexed(tmp_path, monkeypatch):
    monkeypatch.setattr(articles, "MAX_RECORD_BYTES", 64 * 1024)  # the same bound, on a smaller file
    monkeypatch.setattr(articles, "_SKIP_CHUNK", 4096)
    huge = {"id": "huge", "title": "Bài quá dài", "body": "lúa " * (200 * 1024)}
    path = write_jsonl(tmp_path / "r.jsonl", records(2) + [huge] + records(2, start=2))
    reported = []
    summary = index_articles([path], tmp_path / "ix", workers=1, report=reported.append)
    assert [(p.origin, p.message) for p in reported] == [
        (f"{path}:3", "record over the 0.0625 MB limit (a line is one article): skipped")]
    assert summary.indexed == 4 and ids_in(tmp_path / "ix") == {"r0", "r1", "r2", "r3"}


def test_a_200_mb_record_is_read_with_a_bounded_buffer(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(records(1)[0]) + "\n")
        f.write('{"id": "big", "body": "' + ("x" * MB) * 200 + '"}\n')
        f.write(json.dumps(records(1, start=1)[0]) + "\n")
    lines = [(n, None if raw is None else len(raw)) for n, raw in articles.record_lines(path)]
    assert [n for n, _ in lines] == [1, 2, 3] and lines[1][1] is None
    problems = [item for item in articles.read([path]) if isinstance(item, articles.Problem)]
    assert [str(p) for p in problems] == [f"{path}:2: record over the 5 MB limit (a line is one article): skipped"]


def _fifo_reader(paths, found):
    found.extend(articles.read(paths))


@pytest.mark.parametrize("layout", ["jsonl", "txt in a folder"])
def test_fifos_are_refused_by_name_and_never_opened_for_reading(tmp_path, layout):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Nông dân thu hoạch lúa\n\nBài về mùa vụ.", "utf-8")
    fifo = folder / ("x.jsonl" if layout == "jsonl" else "pipe.txt")
    os.mkfifo(fifo)
    paths = [fifo] if layout == "jsonl" else [folder]
    found = []
    reader = threading.Thread(target=_fifo_reader, args=(paths, found), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # free the blocked reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    problems = [str(p) for p in found if isinstance(p, articles.Problem)]
    assert len(problems) == 1 and problems[0].startswith(str(fifo)) and "not a regular file" in problems[0]
    assert estimate_total(paths) >= 1


def test_utf16_json_lines_with_a_bom_are_read(tmp_path):
    good = records(3)
    good[1]["title"] = "Đảng viên ở Thủ Đức"
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good)
    for encoding in ("utf-16", "utf-16-be"):
        path = tmp_path / f"{encoding}.jsonl"
        path.write_bytes(text.encode("utf-16") if encoding == "utf-16" else ("\ufeff" + text).encode(encoding))
        read = list(articles.read([path]))
        assert [getattr(a, "title", str(a)) for a in read] == [r["title"] for r in good], encoding
        assert estimate_total([path]) == 3


def test_json_ids_sources_and_authors_of_the_wrong_kind_are_refused_by_line(tmp_path):
    bad = [{"id": {"nested": 1}}, {"id": ["a"]}, {"id": True}, {"id": "s", "source": {"x": 1}},
           {"id": "a", "author": False}, {"id": "c", "category": [1]}]
    for record in bad:
        record.update(title="Nông dân", body="Thu hoạch lúa.")
    good = records(2)
    good[0]["id"] = 17  # a number is an id all the same
    path = write_jsonl(tmp_path / "r.jsonl", good[:1] + bad + good[1:])
    reported = []
    summary = index_articles([path], tmp_path / "ix", workers=1, report=reported.append)
    assert [(p.origin, p.message) for p in reported] == [
        (f"{path}:2", "field 'id' is an object, not text"), (f"{path}:3", "field 'id' is a list, not text"),
        (f"{path}:4", "field 'id' is a boolean, not text"), (f"{path}:5", "field 'source' is an object, not text"),
        (f"{path}:6", "field 'author' is a boolean, not text"), (f"{path}:7", "field 'category' is a list, not text")]
    assert summary.indexed == 2 and ids_in(tmp_path / "ix") == {"17", "r1"}


def test_an_invalid_date_is_reported_and_the_article_indexed_without_one(tmp_path):
    rs = records(3)
    rs[1]["date"] = "9999-99-99"
    rs[2]["date"] = "2024-03-05"
    path = write_jsonl(tmp_path / "r.jsonl", rs)
    status, err = run_cli("--index-dir", tmp_path / "ix", "index", "--workers", "1", path)
    assert status == 0
    assert f'note: {path}:2: field \'date\': "9999-99-99" is not a date; indexed without one' in err
    with Engine(tmp_path / "ix") as engine:
        assert engine.article("r1").get("published") is None and engine.article("r0").get("published") is None
        assert engine.article("r2")["published"].startswith("2024-03-05")


def test_a_duplicate_id_is_reported_the_later_record_kept_and_counted_once(tmp_path):
    rs = records(3) + [{"id": "r1", "title": "Bản sau", "body": "Bản sau của r1."}]
    path = write_jsonl(tmp_path / "r.jsonl", rs)
    status, err = run_cli("--index-dir", tmp_path / "ix", "index", "--workers", "1", path)
    assert status == 0
    assert f"note: {path}:4: id 'r1' again (first at {path}:2): this later record is the one kept" in err
    assert "3 indexed, 0 updated, 0 unchanged, 0 skipped, 1 ids given again (the later record kept)" in err
    with Engine(tmp_path / "ix") as engine:
        assert engine.searcher().doc_count() == 3 and engine.article("r1")["title"] == "Bản sau"


def test_nul_and_control_characters_never_reach_the_index_or_the_page(tmp_path):
    from webui.app import create_app

    record = {"id": "c\x00tl", "title": "Nông\x00 dân\x07 thu\x1b[31m hoạch\x85", "body": "Lúa\x00 chín\x0b.\tHết."}
    path = write_jsonl(tmp_path / "r.jsonl", [record])
    index_articles([path], tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        stored = engine.article("ctl")
    assert stored["title"] == "Nông dân thu[31m hoạch" and stored["body"] == "Lúa chín.\tHết."
    client = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True}).test_client()
    for page in (client.get("/search?q=nông+dân"), client.get("/article/ctl")):
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Nông dân" in html
        assert not any(c in html for c in "\x00\x07\x1b\x85\x0b")
