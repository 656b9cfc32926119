"""Damaged index files (issue 19, High 2, Medium 3 and 9): each kind of file the index holds is
truncated or overwritten in turn; `vnsearch search` then gives the right answer or a clear error
naming the file and `vnsearch index --rebuild` (never a traceback, never a hang: each run is a
process with a timeout), and `--rebuild` makes a working index again."""

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys

import pytest

from index.store.directory import IndexDamaged, open_index
from index.writer import index_articles
from tests.conftest import SEEDS, commit_unmerged, write_jsonl

TIMEOUT = 60  # a run that takes longer hangs
QUERY = "nông dân"

# file kind: how to find it in the index folder (the first match, by name)
KINDS = {
    "toc": lambda name: name.startswith("_MAIN_") and name.endswith(".toc"),
    "terms": lambda name: name.endswith(".trm"),
    "stored": lambda name: name.endswith(".vns"),
    "whoosh stored column": lambda name: name.endswith("._stored.col"),
    "province": lambda name: name.endswith(".province.col"),
    "whoosh postings": lambda name: name.endswith(".pst"),
    "segment postings": lambda name: name.endswith(".vnp") and not name.endswith(".all.vnp"),
    "merged postings": lambda name: name.endswith(".all.vnp"),
    "sums": lambda name: name.endswith(".sums"),
}


def more_records():
    return [{"id": f"r{i}", "title": f"Nông dân thu hoạch lúa số {i}", "province": "Cần Thơ",
             "body": f"Bài số {i} về mùa vụ ở Cần Thơ, đảng viên giúp nông dân {'gặt ' * (i % 7)}lúa."}
            for i in range(80)]


def vnsearch(*args, timeout=TIMEOUT):
    try:
        return subprocess.run([sys.executable, "-m", "webui.cli", *map(str, args)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"vnsearch {' '.join(map(str, args))} did not finish in {timeout} s")


def answer(index_dir):
    """(exit status, (total, hit ids) or the error message) of the query."""
    out = vnsearch("--index-dir", index_dir, "search", "--json", "--limit", "100", QUERY)
    assert "Traceback" not in out.stderr, out.stderr
    if out.returncode:
        return out.returncode, out.stderr
    result = json.loads(out.stdout)
    return 0, (result["total"], [hit["id"] for hit in result["hits"]])


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    late = [dict(r, id=f"late{i}", title=f"Nông dân gặt muộn {i}") for i, r in enumerate(more_records()[:30])]
    return [SEEDS, write_jsonl(folder / "more.jsonl", more_records()), write_jsonl(folder / "late.jsonl", late)]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory, sources):
    """An index of four segments (the seeds, then 80 records by two workers, their postings merged, then 30
    more committed without merging: a segment with its own posting file), and the query's answer on it."""
    index_dir = tmp_path_factory.mktemp("healthy") / "ix"
    index_articles(sources[:1], index_dir, workers=1)
    index_articles(sources[1:2], index_dir, workers=2)
    commit_unmerged(index_dir, sources[2])
    right = answer(index_dir)
    assert right[0] == 0 and right[1][0] > 70
    return index_dir, right


def damaged_copy(healthy, tmp_path, kind, damage):
    index_dir = tmp_path / "ix"
    shutil.copytree(healthy, index_dir)
    path = index_dir / sorted(name for name in os.listdir(index_dir) if KINDS[kind](name))[0]
    data = bytearray(path.read_bytes())
    if damage == "half":
        data = data[:len(data) // 2]
    elif damage == "10 bytes":
        data = data[:10]
    else:  # 64 random bytes in the middle
        middle = len(data) // 2
        data[middle:middle + 64] = random.Random(19).randbytes(min(64, len(data) - middle))
    path.write_bytes(bytes(data))
    return index_dir, path


def assert_clear(status_and_message, path):
    status, message = status_and_message
    assert status == 2, message
    assert path.name in message and "vnsearch index --rebuild" in message, message


DAMAGES = ["half", "10 bytes", "overwritten"]

# Runs `vnsearch search` on each folder given, in one process (pyvi loaded once), printing per folder
# a JSON line of its exit status, output and errors; an exception out of the command is printed as
# its traceback. The process as a whole has a timeout: a search that hangs fails the tests.
_SEARCH_EACH = """
import contextlib, io, json, sys, traceback
from webui.cli import main
for folder in sys.argv[2:]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["--index-dir", folder, "search", "--json", "--limit", "100", sys.argv[1]])
        except BaseException:
            traceback.print_exc()
            status = -1
    print(json.dumps([status, out.getvalue(), err.getvalue()]), flush=True)
"""


@pytest.fixture(scope="module")
def damaged_answers(healthy, tmp_path_factory):
    """{(kind, damage): ((exit status, answer or error), damaged file)} for every kind and damage."""
    cases = {}
    for kind in KINDS:
        for damage in DAMAGES:
            cases[kind, damage] = damaged_copy(healthy[0], tmp_path_factory.mktemp("damaged"), kind, damage)
    try:
        out = subprocess.run([sys.executable, "-c", _SEARCH_EACH, QUERY, *(str(d) for d, _ in cases.values())],
                             capture_output=True, text=True, timeout=2 * TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"searching the damaged indexes did not finish in {2 * TIMEOUT} s: {e.stdout}")
    lines = out.stdout.splitlines()
    assert len(lines) == len(cases), out.stderr
    answers = {}
    for case, line in zip(cases, lines):
        status, stdout, stderr = json.loads(line)
        assert "Traceback" not in stderr, (case, stderr)
        if status == 0:
            result = json.loads(stdout)
            answers[case] = (0, (result["total"], [hit["id"] for hit in result["hits"]])), cases[case][1]
        else:
            answers[case] = (status, stderr), cases[case][1]
    return answers


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_damaged_file_gives_the_right_answer_or_a_clear_error(healthy, damaged_answers, kind, damage):
    found, path = damaged_answers[kind, damage]
    if found[0] == 0:
        assert found == healthy[1]
    else:
        assert_clear(found, path)


@pytest.mark.parametrize("kind", ["toc", "stored", "merged postings", "segment postings"])
def test_rebuild_recovers_a_damaged_index(healthy, sources, tmp_path, kind):
    index_dir, path = damaged_copy(healthy[0], tmp_path, kind, "half")
    out = vnsearch("--index-dir", index_dir, "index", "--workers", "1", *sources)
    assert "Traceback" not in out.stderr
    if out.returncode:  # an indexing run that needs the damaged file says so
        assert out.returncode == 2 and path.name in out.stderr and "--rebuild" in out.stderr, out.stderr
    out = vnsearch("--index-dir", index_dir, "index", "--rebuild", "--workers", "1", *sources)
    assert out.returncode == 0, out.stderr
    assert answer(index_dir) == healthy[1]
    open_index(index_dir)  # and every file checks


def test_a_posting_file_overwritten_after_opening_is_found_when_its_pages_are_read(healthy, tmp_path):
    from search.engine import Engine
    from search.request import SearchRequest

    index_dir = tmp_path / "ix"
    shutil.copytree(healthy[0], index_dir)
    merged = next(index_dir.glob("*.all.vnp"))
    with Engine(index_dir, recent_results=0) as engine:
        engine.searcher()
        data = bytearray(merged.read_bytes())
        data[4096:len(data) - 4096] = bytes(len(data) - 8192)  # every page but the header's and the footer's
        merged.write_bytes(bytes(data))  # in place: the engine's open file sees it
        with pytest.raises(IndexDamaged, match=f"{merged.name} is damaged .*checksum"):
            engine.search(SearchRequest(q=QUERY))


def _limit_file_size(limit):
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limited


@pytest.mark.parametrize("where", ["segment", "merge"])
def test_a_run_that_fails_to_write_leaves_no_partial_files(healthy, sources, tmp_path, where):
    """A real write failure (the file size limit, as a full disk would): the run says so, the previous
    commit stays, and neither its partial segments nor a half-merged posting file stay behind."""
    index_dir = tmp_path / "ix"
    shutil.copytree(healthy[0], index_dir)
    before = sorted(os.listdir(index_dir))
    extra = write_jsonl(tmp_path / "extra.jsonl", [dict(r, id=f"x{i}") for i, r in enumerate(more_records())])
    merged = next(index_dir.glob("*.all.vnp")).stat().st_size
    largest = max(p.stat().st_size for p in index_dir.iterdir() if not p.name.endswith(".all.vnp"))
    limit = 4096 if where == "segment" else (largest + merged) // 2  # the merge is the one file over it
    out = subprocess.run([sys.executable, "-m", "webui.cli", "--index-dir", str(index_dir), "index", "--workers",
                          "1", str(extra)], capture_output=True, text=True, timeout=TIMEOUT,
                         preexec_fn=_limit_file_size(limit))
    assert out.returncode == 2 and "File too large" in out.stderr and "intact" in out.stderr, out.stderr
    assert sorted(os.listdir(index_dir)) == before
    assert answer(index_dir) == healthy[1]


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


@pytest.mark.parametrize("kind, damage", [("toc", "half"), ("merged postings", "pages")])
def test_the_server_answers_503_for_a_damaged_index_and_keeps_answering(healthy, tmp_path, kind, damage):
    import time
    import urllib.error
    from urllib.parse import quote

    if damage == "pages":  # found by the searches that read them, not when the index is opened
        index_dir = tmp_path / "ix"
        shutil.copytree(healthy[0], index_dir)
        path = next(index_dir.glob("*.all.vnp"))
        data = bytearray(path.read_bytes())
        data[4096:len(data) - 4096] = bytes(len(data) - 8192)
        path.write_bytes(bytes(data))
    else:
        index_dir, path = damaged_copy(healthy[0], tmp_path, kind, damage)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "webui.cli", "--index-dir", str(index_dir), "serve", "--port",
                               str(port), "--processes", "1", "--threads", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                _get(base + "/favicon.ico")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        for _ in range(20):  # more searches than threads: none may be kept
            status, body = _get(f"{base}/search?q={quote(QUERY)}")
            assert status == 503 and "Traceback" not in body
        status, body = _get(f"{base}/api/search?q={quote(QUERY)}")
        assert status == 503 and json.loads(body)["error"]["message"] == "the search index is not available"
        status, body = _get(base + "/healthz")  # it answers: unavailable, or ok when only pages are damaged
        assert (status, json.loads(body)["status"]) in ([(503, "unavailable")] if kind == "toc" else
                                                        [(503, "unavailable"), (200, "ok")])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            err = server.communicate(timeout=TIMEOUT)[1]
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("the server did not stop on SIGTERM")
    assert "Traceback" not in err and path.name in err, err


def test_a_merge_left_half_written_by_a_killed_run_is_deleted_by_the_next(healthy, tmp_path):
    index_dir = tmp_path / "ix"
    shutil.copytree(healthy[0], index_dir)
    merged = next(index_dir.glob("*.all.vnp")).name
    other = next(p.name for p in index_dir.glob("*.vnp") if not merged.startswith(p.name[:-len(".vnp")]))
    left = index_dir / (other[:-len(".vnp")] + ".all.vnp.tmp")  # named after a segment still listed
    left.write_bytes(b"VNPOST06 half written")
    extra = write_jsonl(tmp_path / "extra.jsonl", [dict(r, id=f"x{i}") for i, r in enumerate(more_records()[:3])])
    assert index_articles([extra], index_dir, workers=1).indexed == 3
    assert not list(index_dir.glob("*.tmp"))
