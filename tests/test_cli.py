"""The `vnsearch` command as a user runs it: a real process, a real index on disk."""

import json
import subprocess
import sys

import pytest

from tests.conftest import SEEDS, write_jsonl


def vnsearch(*args, env_index=None, check=True):
    import os

    env = dict(os.environ)
    if env_index:
        env["VNSEARCH_INDEX"] = str(env_index)
    out = subprocess.run([sys.executable, "-m", "webui.cli", *map(str, args)], capture_output=True, text=True,
                         env=env, timeout=300)
    if check and out.returncode != 0:
        raise AssertionError(f"exit {out.returncode}: {out.stderr}")
    return out


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "ix"
    out = vnsearch("index", env_index=path)  # no PATH: the seeds; the index dir from $VNSEARCH_INDEX
    assert "5 indexed, 0 updated, 0 unchanged, 0 skipped" in out.stderr
    assert "docs/s" in out.stderr
    return path


@pytest.mark.parametrize("value", ["lots", "-1", "inf"])
def test_serve_refuses_a_cache_size_that_is_not_megabytes(tmp_path, value):
    out = vnsearch("--index-dir", tmp_path, "serve", "--cache-mb", value, check=False)
    assert out.returncode == 2 and f"--cache-mb: '{value}' is not a number of megabytes" in out.stderr


def test_second_run_reports_everything_unchanged(cli_index):
    out = vnsearch("index", str(SEEDS), "--index-dir", cli_index)
    assert "0 indexed, 0 updated, 5 unchanged, 0 skipped" in out.stderr


def test_search_prints_titles_and_marked_snippets(cli_index):
    out = vnsearch("--index-dir", cli_index, "search", "Ngã Bảy")
    assert "Thành phố Ngã Bảy: Tổng kết Điều lệ Đảng" in out.stdout
    assert "[Ngã Bảy]" in out.stdout


def test_search_json(cli_index):
    out = vnsearch("search", "dang vien", "--json", "--limit", "3", "--index-dir", cli_index)
    data = json.loads(out.stdout)
    assert data["query"] == "dang vien" and data["total"] == 5 and len(data["hits"]) == 3
    assert {"id", "title", "date", "source", "url", "score", "snippet"} <= set(data["hits"][0])
    assert "<mark>" in data["hits"][0]["snippet"]


def test_search_says_how_it_read_a_query_without_marks(cli_index):
    out = vnsearch("--index-dir", cli_index, "search", "thu duc")
    assert "Kết quả cho: thủ đức (tìm chính xác: --exact)" in out.stdout
    exact = vnsearch("--index-dir", cli_index, "search", "thu duc", "--exact", "--json")
    assert json.loads(exact.stdout)["exact"] is True


def test_batch_prints_one_json_line_per_query(cli_index, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("Thủ Đức\n\nLê Quốc Phong\n", "utf-8")
    out = vnsearch("search", "--batch", queries, "--index-dir", cli_index)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["hits"][0]["id"] for line in lines] == ["002_7cfa0be5b48b213f", "003_44e163ab98d69cf3"]


def test_bad_parameter_is_named(cli_index):
    out = vnsearch("search", "x", "--limit", "500", "--index-dir", cli_index, check=False)
    assert out.returncode == 2 and "--limit" in out.stderr


def test_search_without_an_index_says_how_to_make_one(tmp_path):
    out = vnsearch("search", "x", "--index-dir", tmp_path / "none", check=False)
    assert out.returncode == 2 and "vnsearch index" in out.stderr


def test_extract_prints_records(tmp_path):
    out = vnsearch("extract", SEEDS / "004_d70c9f24cee2e267.txt")
    record = json.loads(out.stdout)
    assert record["id"] == "004_d70c9f24cee2e267" and record["author"] == "BẢO TOÀN"
    assert record["date"] == "2024-01-30T08:03:00+07:00"


def test_skipped_input_is_named_and_exit_status_is_one(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("Tiêu đề\n\nNội dung về đảng viên.\n", "utf-8")
    (folder / "utf16.txt").write_bytes("Bài UTF-16\n\nĐọc được.".encode("utf-16"))
    (folder / "latin.txt").write_bytes("Bài đà: Hà Tây".encode("cp1258"))
    (folder / "blob.txt").write_bytes(bytes(range(256)))
    records = write_jsonl(tmp_path / "r.jsonl", [{"id": "r1", "body": "Một."}])
    with records.open("a") as f:
        f.write('{"id": "r2", "body": \n')
    out = vnsearch("index", folder, records, "--index-dir", tmp_path / "ix", check=False)
    assert out.returncode == 1
    assert "3 indexed" in out.stderr and "3 skipped" in out.stderr
    for name in ("latin.txt", "blob.txt", "r.jsonl:2"):
        assert name in out.stderr


def test_bad_map_is_refused(tmp_path):
    out = vnsearch("index", "x.jsonl", "--map", "nonsense", "--index-dir", tmp_path / "ix", check=False)
    assert out.returncode != 0 and "--map" in out.stderr


def _children(pid):
    from pathlib import Path

    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in children.read_text().split()] if children.exists() else []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_answers_from_several_processes_and_stops_them_all(cli_index):
    import os
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "webui.cli", "--index-dir", str(cli_index), "serve",
                               "--port", str(port), "--processes", "2", "--threads", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        children = _children(server.pid)
        assert len(children) == 1
        for _ in range(20):  # the kernel hands connections to either process: all of them answer alike
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=dang+vien", timeout=30) as r:
                assert json.load(r)["total"] == 5
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    time.sleep(0.5)
    for child in children:
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)


def _sockets(pid):
    from pathlib import Path

    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if fd.is_symlink() and str(fd.readlink()).startswith("socket:"))


def _serving(cli_index, processes=2):
    """(the `vnsearch serve` process, its port), once it answers."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "webui.cli", "--index-dir", str(cli_index), "serve",
                               "--port", str(port), "--processes", str(processes), "--threads", "4"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
            return server, port
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)


def _browsers_at_once(port, count):
    """`count` keep-alive connections, each asking a search at the same time; returns them open."""
    import http.client
    import threading

    browsers = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(count)]
    answers = []

    def visit(browser):
        browser.request("GET", "/api/search?q=dang+vien")
        answers.append(json.load(browser.getresponse())["total"])

    visits = [threading.Thread(target=visit, args=(browser,)) for browser in browsers]
    for visit_ in visits:
        visit_.start()
    for visit_ in visits:
        visit_.join()
    assert answers == [5] * count
    return browsers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_shares_keep_alive_connections_evenly_between_its_processes(cli_index):
    """Eight browsers arriving at once on a server of two processes are served four by each: left to the
    kernel, one process could hold six or seven of them and answer them slower, while the other idled."""
    import signal
    import time

    server, port = _serving(cli_index)
    try:
        processes = [server.pid] + _children(server.pid)
        time.sleep(0.5)  # the connection of the first request is closed on both sides
        before = [_sockets(pid) for pid in processes]
        browsers = _browsers_at_once(port, 8)
        assert [_sockets(pid) - n for pid, n in zip(processes, before)] == [4, 4]
        for browser in browsers:
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_answers_every_browser_when_one_of_its_processes_was_killed(cli_index):
    """A process killed holds no connections: after a few seconds the others take them all, rather than
    leave them waiting for it."""
    import os
    import signal

    server, port = _serving(cli_index)
    try:
        os.kill(_children(server.pid)[0], signal.SIGKILL)
        for browser in _browsers_at_once(port, 3):
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_serve_help_lists_the_index_dir():
    assert "--index-dir" in vnsearch("serve", "--help").stdout


def test_serve_on_a_named_folder_without_an_index_says_how_to_make_one(tmp_path):
    wrong = tmp_path / "WRONG"
    out = vnsearch("serve", "--index-dir", wrong, "--port", "0", check=False)
    assert out.returncode == 2
    assert f"no index in {wrong}" in out.stderr and "vnsearch index" in out.stderr
    assert "serving" not in out.stderr and not wrong.exists()  # the samples were not put there


def test_serve_on_a_taken_port_says_so_and_exits_1(cli_index):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        out = vnsearch("serve", "--index-dir", cli_index, "--port", port, "--processes", "1", check=False)
    assert out.returncode == 1
    assert f"port {port} on 127.0.0.1 is taken" in out.stderr and "--port" in out.stderr
    assert "Traceback" not in out.stderr and "serving" not in out.stderr
