"""Reliability (issue 7): bad files, concurrent use, a locked or full disk, and the web app's limits.

- Files: every unreadable file or record is reported with its file (and line) and skipped, and every good
  record is indexed: binary, cp1258, Latin-1, empty, UTF-16 with a BOM (read), a 50 MB page (refused), a
  50 MB JSON lines file (indexed fully), broken and truncated JSON lines, a truncated .gz.
- Concurrency: searches keep answering while the same index is rebuilt or updated underneath them, by a
  thread of this process or by a separate `vnsearch index` process; a second indexer waits, then says so.
- Disk full: a commit that fails with ENOSPC gives a clear IndexUnavailable and leaves the old index whole.
- Web app: page size and page number limits, no stack traces or paths in error pages, article ids that
  cannot reach outside the index, the security headers on every response.
"""

import errno
import gc
import gzip
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from unittest import mock

import pytest
from whoosh import index as whoosh_index

from index.store.directory import IndexUnavailable, known_hashes
from index.writer import index_articles
from search.request import SearchRequest
from tests.conftest import ROOT, SEEDS, write_jsonl
from webui.engine import get_engine

MB = 1024 * 1024
VIET = ("nhà nước đảng viên hội đồng nhân dân tỉnh thành phố kinh tế phát triển nông dân lúa gạo biển đảo "
        "giáo dục y tế giao thông thời tiết bóng đá").split()


def records(n, prefix="r", word="chung", start=0):
    """Small Vietnamese-looking records; every one holds `word`, so a search for it counts them all."""
    return [{"id": f"{prefix}{i}", "title": f"{VIET[i % len(VIET)]} {VIET[(i * 7) % len(VIET)]} số {i}",
             "body": f"{word} {VIET[(i * 3) % len(VIET)]} {VIET[(i * 5) % len(VIET)]} bài {i}."}
            for i in range(start, start + n)]


def doc_count(index_dir):
    return whoosh_index.open_dir(str(index_dir)).doc_count()


# ---------------------------------------------------------------- files


def test_unreadable_files_are_named_skipped_and_the_rest_indexed(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = "Đảng viên họp chi bộ ở Hà Nội\n\nNội dung: nông dân thu hoạch lúa, đảng viên giúp đỡ."
    (folder / "good.txt").write_text(good, "utf-8")
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbf" + good.replace("Hà Nội", "Huế").encode("utf-8"))
    (folder / "utf16.txt").write_bytes(good.replace("Hà Nội", "Đà Nẵng").encode("utf-16"))  # with a BOM
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "cp1258.txt").write_bytes("Tin t\u1ee9c h\u00f4m nay: l\u00faa g\u1ea1o".encode("cp1258", "replace"))
    (folder / "latin1.txt").write_bytes("Café crème à la française, señor".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(b"  \n\n \t ")
    (folder / "utf16-broken.txt").write_bytes(b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    reported = []
    summary = index_articles([folder], tmp_path / "ix", workers=1, report=reported.append)
    problems = {Path(p.origin).name: p.message for p in reported}
    assert summary.indexed == 3, (summary, problems)
    assert set(problems) == {"binary.txt", "cp1258.txt", "latin1.txt", "empty.txt", "blank.txt", "utf16-broken.txt"}
    assert "binary" in problems["binary.txt"]
    assert "not UTF-8" in problems["cp1258.txt"] and "iconv" in problems["cp1258.txt"]
    assert "not UTF-8" in problems["latin1.txt"] and "line 1" in problems["latin1.txt"]
    assert "empty" in problems["empty.txt"] and "empty" in problems["blank.txt"]
    assert all(str(folder) in p.origin for p in reported)
    from search.engine import Engine

    with Engine(tmp_path / "ix") as engine:
        assert engine.search(SearchRequest(q="Đà Nẵng")).total == 1  # the UTF-16 page was read, and is found
        assert engine.search(SearchRequest(q="đảng viên")).total == 3


def test_a_50_mb_page_is_refused_as_too_large(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(50 * MB)  # sparse: 50 MB of size without writing them
    (tmp_path / "small.txt").write_text("Tiêu đề nhỏ\n\nBài nhỏ về đảng viên.", "utf-8")
    reported = []
    summary = index_articles([big, tmp_path / "small.txt"], tmp_path / "ix", workers=1, report=reported.append)
    assert summary.indexed == 1 and len(reported) == 1
    assert reported[0].origin == str(big)
    assert "50 MB is too large for one article" in reported[0].message and "JSON lines" in reported[0].message


def test_a_50_mb_json_lines_file_is_indexed_fully(tmp_path):
    """Size is no reason to refuse a record file: each record is read, one line at a time.

    Bodies are light (indexing speed is not under test here); each record also carries a 128 KB field we do
    not index, as exports often do (the raw page), which makes the file 50 MB.
    """
    path = tmp_path / "big.jsonl"
    n = 400
    filler = "<p>" + "x" * (128 * 1024) + "</p>"
    with open(path, "w", encoding="utf-8") as f:
        for record in records(n):
            record["raw_html"] = filler
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    assert path.stat().st_size >= 50 * MB
    reported = []
    summary = index_articles([path], tmp_path / "ix", workers=1, report=reported.append)
    assert not reported and summary.indexed == n
    assert doc_count(tmp_path / "ix") == n


def test_broken_json_lines_are_reported_by_line_and_every_good_record_indexed(tmp_path):
    good = records(6)
    lines = [json.dumps(good[0], ensure_ascii=False),
             '{"id": "x1", "title": "cắt ngang", "body": "không đóng',  # truncated JSON
             json.dumps(good[1], ensure_ascii=False),
             "[1, 2, 3]",  # not an object
             '{"title": "không có id", "body": "chữ"}',
             '{"id": "x2", "body": 42}',  # body not a string
             '{"id": "x3", "title": "", "body": ""}',  # no text
             json.dumps(good[2], ensure_ascii=False),
             "\x00\x00garbage\x00",
             "{{{{",
             json.dumps(good[3], ensure_ascii=False)]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    raw += '{"id": "x4", "body": "Cà phê"}\n'.encode("cp1258", "replace").replace(b"\xe0", b"\xe0\xff") + b"\n"
    raw += (json.dumps(good[4], ensure_ascii=False) + "\n").encode("utf-8")
    raw += b'   \n\n'  # blank lines are not problems
    raw += (json.dumps(good[5], ensure_ascii=False) + "\n").encode("utf-8")
    raw += b'{"id": "x5", "title": "cu\xe1\xbb'  # the file ends in the middle of a record and of a character
    path = tmp_path / "broken.jsonl"
    path.write_bytes(raw)
    reported = []
    summary = index_articles([path], tmp_path / "ix", workers=1, report=reported.append)
    assert summary.indexed == 6
    assert set(known_hashes(whoosh_index.open_dir(str(tmp_path / "ix")))) == {r["id"] for r in good}
    lines_reported = sorted(int(p.origin.rsplit(":", 1)[1]) for p in reported)
    assert lines_reported == [2, 4, 5, 6, 7, 9, 10, 12, 18], [str(p) for p in reported]
    assert all(p.origin.startswith(f"{path}:") and p.message for p in reported)


def test_a_truncated_gzip_is_reported_and_what_it_held_is_indexed(tmp_path):
    good = records(300)
    whole = gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good).encode("utf-8"))
    (tmp_path / "no-trailer.jsonl.gz").write_bytes(whole[:-8])  # the CRC and size are missing
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[:len(whole) // 2])  # cut in the middle of the stream
    (tmp_path / "not-gzip.jsonl.gz").write_bytes(b"this is not gzip at all\n")

    reported = []
    summary = index_articles([tmp_path / "no-trailer.jsonl.gz"], tmp_path / "a", workers=1, report=reported.append)
    assert summary.indexed == 300
    assert len(reported) == 1 and reported[0].origin.startswith(str(tmp_path / "no-trailer.jsonl.gz") + ":")

    reported = []
    summary = index_articles([tmp_path / "cut.jsonl.gz", tmp_path / "not-gzip.jsonl.gz"], tmp_path / "b",
                             workers=1, report=reported.append)
    ids = set(known_hashes(whoosh_index.open_dir(str(tmp_path / "b"))))
    assert 0 < summary.indexed < 300 and len(ids) == summary.indexed
    assert ids == {f"r{i}" for i in range(len(ids))}  # everything before the cut, nothing invented
    origins = sorted(p.origin.rsplit(":", 1)[0] for p in reported)
    assert origins == [str(tmp_path / "cut.jsonl.gz"), str(tmp_path / "not-gzip.jsonl.gz")]
    assert all("cannot read further" in p.message for p in reported)


def test_a_record_with_a_lone_surrogate_does_not_stop_the_run(tmp_path):
    """JSON may escape half a surrogate pair ("\\ud800"); that record is read (without it) or reported, never fatal."""
    path = tmp_path / "surrogate.jsonl"
    path.write_text(json.dumps(records(1)[0]) + "\n"
                    + '{"id": "bad", "title": "Ti\\u00eau \\ud800 \\u0111\\u1ec1", "body": "ch\\udc00\\u1eef"}\n'
                    + json.dumps(records(2)[1]) + "\n", "utf-8")
    reported = []
    summary = index_articles([path], tmp_path / "ix", workers=1, report=reported.append)
    ids = set(known_hashes(whoosh_index.open_dir(str(tmp_path / "ix"))))
    assert {"r0", "r1"} <= ids
    if "bad" in ids:
        assert summary.indexed == 3 and not reported
        from search.engine import Engine

        with Engine(tmp_path / "ix") as engine:
            stored = engine.article("bad")
            for name in ("title", "body"):
                stored[name].encode("utf-8")  # what was stored is text UTF-8 can hold
    else:
        assert summary.indexed == 2 and [p.origin for p in reported] == [f"{path}:2"]


# ---------------------------------------------------------------- concurrency


class Searchers:
    """Threads searching one long-lived Engine until stopped; every failure and every total is kept."""

    def __init__(self, engine, q, threads=3):
        self.engine, self.q = engine, q
        self.failures, self.totals, self.count = [], set(), 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def _run(self, n):
        sorts = ("relevance", "newest", "oldest")
        while not self._stop.is_set():
            try:
                result = self.engine.search(SearchRequest(q=self.q, sort=sorts[n % 3], limit=20))
                assert len(result.hits) == min(20, result.total)
                for hit in result.hits[:2]:
                    found = self.engine.article(hit.id)  # None when a rebuild has removed it since
                    assert found is None or found["id"] == hit.id
                with self._lock:
                    self.totals.add(result.total)
                    self.count += 1
            except Exception as e:  # noqa: BLE001 - any exception is a failed search
                with self._lock:
                    self.failures.append(f"{e!r}\n{traceback.format_exc(limit=-6)}")

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(30)


def test_searches_keep_answering_while_the_index_is_rebuilt_and_updated_in_process(tmp_path):
    from search.engine import Engine

    first = write_jsonl(tmp_path / "first.jsonl", records(120))
    index_articles([first], tmp_path / "ix", workers=1)
    second = write_jsonl(tmp_path / "second.jsonl", records(90, prefix="s"))
    changed = records(90, prefix="s")
    for r in changed[::3]:
        r["body"] += " đã sửa"
    third = write_jsonl(tmp_path / "third.jsonl", changed)
    with Engine(tmp_path / "ix") as engine, Searchers(engine, "chung") as searchers:
        while searchers.count < 5:
            time.sleep(0.05)
        index_articles([second], tmp_path / "ix", workers=1, rebuild=True)  # replaces all 120 by 90 others
        index_articles([third], tmp_path / "ix", workers=1)  # updates 30 of them in place
        index_articles([first, second], tmp_path / "ix", workers=1, rebuild=True)
        deadline = time.monotonic() + 10
        while len(searchers.totals) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not searchers.failures, searchers.failures[:5]  # zero failed searches
    assert searchers.count > 10
    assert len(searchers.totals) > 1  # the long-lived engine saw the commits
    # that what it saw were exactly the committed states is test_a_long_lived_engine_sees_exactly_the_last_commit


def test_searches_keep_answering_while_another_process_rebuilds_the_index(tmp_path):
    from search.engine import Engine

    old = write_jsonl(tmp_path / "old.jsonl", records(100, prefix="o"))
    index_articles([old], tmp_path / "ix", workers=1)
    new = write_jsonl(tmp_path / "new.jsonl", records(150, prefix="n"))
    with Engine(tmp_path / "ix") as engine, Searchers(engine, "chung") as searchers:
        indexer = subprocess.run(
            [sys.executable, "-m", "webui.cli", "index", str(new), "--index-dir", str(tmp_path / "ix"), "--rebuild",
             "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert indexer.returncode == 0, indexer.stderr
        deadline = time.monotonic() + 10
        while len(searchers.totals) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not searchers.failures, searchers.failures[:5]  # zero failed searches
    assert searchers.count > 10 and len(searchers.totals) > 1, searchers.totals
    with Engine(tmp_path / "ix") as fresh:
        assert fresh.search(SearchRequest(q="chung")).total == 150


@pytest.mark.parametrize("change", ["rebuild", "update"])
def test_a_long_lived_engine_sees_exactly_the_last_commit(tmp_path, change):
    from search.engine import Engine

    first = records(60, prefix="o")
    index_articles([write_jsonl(tmp_path / "first.jsonl", first)], tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        assert engine.search(SearchRequest(q="chung")).total == 60
        if change == "rebuild":  # 60 articles replaced by 40 others
            index_articles([write_jsonl(tmp_path / "n.jsonl", records(40, prefix="n"))], tmp_path / "ix", workers=1,
                           rebuild=True)
        else:  # 20 of the 60 changed in place
            for r in first[::3]:
                r["body"] += " đã sửa"
            index_articles([write_jsonl(tmp_path / "u.jsonl", first)], tmp_path / "ix", workers=1)
        with Engine(tmp_path / "ix") as fresh:
            expected = fresh.search(SearchRequest(q="chung")).total
            assert expected == fresh.searcher().doc_count()
        result = engine.search(SearchRequest(q="chung", limit=100))
        assert result.total == expected, (change, result.total, expected)
        assert len({hit.id for hit in result.hits}) == len(result.hits)  # no article twice


def test_an_index_with_no_documents_yet_answers_searches(tmp_path):
    from search.engine import Engine
    from webui.app import create_app

    (tmp_path / "bad.txt").write_bytes(b"\x00binary")
    summary = index_articles([tmp_path / "bad.txt"], tmp_path / "ix", workers=1)
    assert summary.skipped == 1 and doc_count(tmp_path / "ix") == 0
    client = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True}).test_client()
    assert client.get("/api/search?q=chung").status_code == 200
    with Engine(tmp_path / "ix") as engine:
        assert engine.search(SearchRequest(q="chung")).total == 0
        index_articles([write_jsonl(tmp_path / "r.jsonl", records(3))], tmp_path / "ix", workers=1)
        assert engine.search(SearchRequest(q="chung")).total == 3  # and it sees the first commit


def _hold_the_writer(index_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from whoosh import index; "
         "w = index.open_dir(sys.argv[1]).writer(); print('locked', flush=True); time.sleep(60)", str(index_dir)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_vnsearch_index_waits_for_the_lock_then_exits_with_a_clear_message(copy_of_seeds_index, tmp_path):
    more = write_jsonl(tmp_path / "more.jsonl", records(3))
    holder = _hold_the_writer(copy_of_seeds_index)
    try:
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "webui.cli", "index", str(more), "--index-dir",
                              str(copy_of_seeds_index), "--lock-timeout", "1", "--workers", "1"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "locked by another `vnsearch index`" in out.stderr and "waited 1 s" in out.stderr, out.stderr
    assert str(copy_of_seeds_index) in out.stderr
    assert "Traceback" not in out.stderr
    assert elapsed >= 1.0
    assert doc_count(copy_of_seeds_index) == 5  # nothing half-written
    summary = index_articles([more], copy_of_seeds_index, workers=1, lock_timeout=5)  # the lock is free again
    assert summary.indexed == 3 and doc_count(copy_of_seeds_index) == 8


# ---------------------------------------------------------------- disk full


class _Full:
    """A file that takes `budget` bytes (shared by all files), then fails as a full disk does."""

    budget = 0

    def __init__(self, raw):
        self._raw = raw

    def write(self, data):
        if _Full.budget < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        _Full.budget -= len(data)
        return self._raw.write(data)

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._raw.close()


def _full_disk(budget):
    """Whoosh's file writes (its storage opens files with `open` and `os.fdopen`) fail with ENOSPC."""
    import whoosh.filedb.filestore as filestore

    real_open, real_fdopen = open, os.fdopen
    _Full.budget = budget

    def writing(opener):
        def wrapped(target, mode="r", *args, **kwargs):
            f = opener(target, mode, *args, **kwargs)
            return _Full(f) if any(c in mode for c in "wa+") else f
        return wrapped

    return mock.patch.multiple(filestore, open=writing(real_open), create=True), \
        mock.patch.object(filestore.os, "fdopen", writing(real_fdopen))


@pytest.mark.parametrize("budget", [0, 20_000])
@pytest.mark.parametrize("rebuild", [False, True])
def test_a_full_disk_during_commit_gives_a_clear_error_and_keeps_the_old_index(copy_of_seeds_index, tmp_path,
                                                                                budget, rebuild):
    from search.engine import Engine

    with Engine(copy_of_seeds_index) as engine:
        before = engine.search(SearchRequest(q="đảng viên")).total
    more = write_jsonl(tmp_path / "more.jsonl", records(40))
    patch_open, patch_fdopen = _full_disk(budget)
    with patch_open, patch_fdopen, pytest.raises(IndexUnavailable) as failure:
        index_articles([more], copy_of_seeds_index, workers=1, rebuild=rebuild)
    message = str(failure.value)
    assert str(copy_of_seeds_index) in message and "No space left on device" in message, message
    assert "intact" in message
    assert doc_count(copy_of_seeds_index) == 5
    with Engine(copy_of_seeds_index) as engine:
        assert engine.search(SearchRequest(q="đảng viên")).total == before
    del failure  # see test_a_failed_writer_releases_the_lock_at_once
    gc.collect()
    summary = index_articles([more], copy_of_seeds_index, workers=1, lock_timeout=5)  # with room, it completes
    assert summary.indexed == 40 and doc_count(copy_of_seeds_index) == 45


def test_a_failed_writer_releases_the_lock_at_once(copy_of_seeds_index, tmp_path):
    more = write_jsonl(tmp_path / "more.jsonl", records(5))
    patch_open, patch_fdopen = _full_disk(0)
    with patch_open, patch_fdopen, pytest.raises(IndexUnavailable) as failure:
        index_articles([more], copy_of_seeds_index, workers=1)
    assert "No space left" in str(failure.value)
    summary = index_articles([more], copy_of_seeds_index, workers=1, lock_timeout=0.5)  # `failure` is still held
    assert summary.indexed == 5


def test_an_index_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(IndexUnavailable) as failure:
        index_articles([SEEDS], blocker / "ix", workers=1)
    assert str(blocker / "ix") in str(failure.value)


# ---------------------------------------------------------------- the web app


def _no_leak(response, *secrets):
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    for secret in (str(ROOT), "/tmp/", "/work/", "site-packages", *secrets):
        assert secret not in body, (secret, body[:500])


@pytest.mark.parametrize("path", ["/search", "/api/search"])
@pytest.mark.parametrize("query,status", [
    ("limit=100", 200), ("limit=101", 400), ("limit=0", 400), ("limit=-1", 400), ("limit=99999999999999999999", 400),
    ("page=1000", 200), ("page=1001", 400), ("page=100000", 400), ("page=0", 400), ("page=1e9", 400),
    ("page=" + "9" * 5000, 400), ("sort=random", 400), ("from=2017-13-45", 400),
])
def test_page_size_and_page_number_are_limited(client, path, query, status):
    response = client.get(f"{path}?q=%C4%91%E1%BA%A3ng&{query}")
    assert response.status_code == status, response.data[:300]
    _no_leak(response)
    if path == "/api/search" and status == 400:
        assert response.get_json()["error"]["parameter"] in query


@pytest.mark.parametrize("url", [
    "/article/..%2F..%2Fetc%2Fpasswd", "/article/../../etc/passwd", "/article/%2Fetc%2Fpasswd",
    "/article/..%5C..%5Cwindows%5Cwin.ini", "/article/a%00b", "/article/%00", "/article/" + "x" * 20000,
    "/article/%ED%A0%80", "/article/000_abc709b6f580d3e9%00", "/static/..%2F..%2Fapp.py", "/static/../app.py",
    "/static/%2e%2e/app.py", "/article/%2E%2E%2F%2E%2E%2Fseeds%2F000_abc709b6f580d3e9.txt",
])
def test_article_ids_and_static_paths_cannot_reach_outside_the_index(client, url):
    response = client.get(url)
    assert response.status_code in (404, 400, 308), (url, response.status_code)
    assert b"root:" not in response.data and b"create_app" not in response.data
    _no_leak(response)


def test_a_known_article_is_found_and_an_unknown_one_is_404(client, engine):
    article_id = engine.search(SearchRequest(q="đảng")).hits[0].id
    assert client.get(f"/article/{article_id}").status_code == 200
    assert client.get(f"/article/{article_id}x").status_code == 404


def test_a_server_error_shows_no_trace_and_no_path(app, client, seeds_index):
    secret = f"{seeds_index}/secret-segment.seg: Traceback"
    engine = get_engine(app)
    with mock.patch.object(type(engine), "search", side_effect=RuntimeError(secret)):
        for url in ("/search?q=abc", "/api/search?q=abc"):
            response = client.get(url)
            assert response.status_code == 500
            _no_leak(response, secret, str(seeds_index), "RuntimeError")
            assert_security_headers(response)


def test_a_missing_index_is_503_without_a_path(tmp_path):
    from webui.app import create_app

    missing = tmp_path / "no-index-here"
    client = create_app({"INDEX_DIR": str(missing), "TESTING": True}).test_client()
    for url in ("/search?q=abc", "/api/search?q=abc", "/article/x"):
        response = client.get(url)
        assert response.status_code == 503
        _no_leak(response, str(missing))
        assert_security_headers(response)


def assert_security_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    script = directives.get("script-src") or directives.get("default-src")
    assert script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("url,status", [
    ("/", 200), ("/search?q=%C4%91%E1%BA%A3ng", 200), ("/api/search?q=dang", 200), ("/search", 302),
    ("/search?q=x&limit=101", 400), ("/api/search?q=x&page=100000", 400), ("/nowhere", 404),
    ("/article/..%2F..%2Fetc%2Fpasswd", 404), ("/api/nowhere", 404), ("/static/style.css", 200),
    ("/static/app.js", 200), ("/static/missing.js", 404), ("/favicon.ico", 200), ("/opensearch.xml", 200),
    ("/healthz", 200),
])
def test_security_headers_are_on_every_response(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert_security_headers(response)


def test_security_headers_on_a_405_and_a_500(app, client):
    response = client.post("/search?q=x")
    assert response.status_code == 405
    assert_security_headers(response)
    engine = get_engine(app)
    with mock.patch.object(type(engine), "article", side_effect=ValueError("boom")):
        response = client.get("/article/anything")
    assert response.status_code == 500
    assert_security_headers(response)
    _no_leak(response, "boom")
