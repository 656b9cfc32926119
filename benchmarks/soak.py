"""A bounded soak run: the app under waitress on loopback, mixed searches for a while, errors and memory counted.

    python benchmarks/soak.py [--seconds 300] [--index-dir DIR] [--clients 4] [--seed 7]

Serves `vnsearch serve` (waitress) on 127.0.0.1 and a free port in a subprocess (indexing the sample
articles into a temporary index unless `--index-dir` names one), then sends a fixed, seeded mix of requests
from `--clients` threads: searches with and without diacritics, phrases, exclusions, facets, dates, sorts,
pages, the JSON API, article pages, and bad parameters (for which 400 is the expected answer).

An error is any 5xx, any unexpected status, or any exception (connection refused, timeout). The server's
RSS (with its children) is sampled every 10 s; memory is flat when the average of the last minute is
within +10% of the average of the second minute (runs shorter than three minutes compare the last third
with the second third). Exits 1 on any error or on growth.
"""

import argparse
import http.client
import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import psutil

ROOT = Path(__file__).resolve().parent.parent

WORDS = ["đảng viên", "dang vien", "Hà Nội", "ha noi", "Thủ Đức", "kinh tế", "nông dân", "lúa gạo", "hoà bình",
         "hòa bình", "thuỷ lợi", "giáo dục", "y tế", "bóng đá", "thời tiết", "công an", "tỉnh", "Quốc hội",
         '"Nghị quyết Trung ương 4"', "đảng viên -kỷ luật", "tai nạn giao thông", "xyzzy không có", "chính phủ?",
         "TP.HCM", "Đà Nẵng", "biển đảo", "học sinh", "bầu cử", "a", "the"]
GOOD_EXTRAS = [{}, {"sort": "newest"}, {"sort": "oldest"}, {"page": "2"}, {"limit": "50"}, {"page": "3", "limit": "5"},
               {"region": "Đồng bằng sông Hồng"}, {"province": "Hà Nội"}, {"from": "2017-01-01"},
               {"from": "2010-01-01", "to": "2030-12-31"}, {"region": "unknown"}, {"page": "1000"}]
BAD_EXTRAS = [{"limit": "101"}, {"page": "100000"}, {"page": "0"}, {"sort": "random"}, {"from": "2017-13-45"},
              {"province": "Atlantis"}, {"from": "2020-01-01", "to": "2010-01-01"}, {"limit": "abc"}]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plan(seed, n=2000):
    """A fixed, seeded list of (path, params, expected statuses)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        roll = rng.random()
        q = rng.choice(WORDS)
        path = rng.choice(["/search", "/api/search"])
        if roll < 0.75:
            out.append((path, {"q": q, **rng.choice(GOOD_EXTRAS)}, {200}))
        elif roll < 0.9:
            out.append((path, {"q": q, **rng.choice(BAD_EXTRAS)}, {400}))
        elif roll < 0.95:
            out.append(("/article", {"q": q}, {200, 404}))  # an article id from an earlier API answer
        else:
            out.append((rng.choice(["/", "/healthz", "/static/style.css", "/nowhere", "/search"]), {}, {200, 302, 404}))
    return out


class Load:
    def __init__(self, port, requests, clients, seconds):
        self.port, self.requests, self.clients, self.seconds = port, requests, clients, seconds
        self.statuses, self.errors, self.latencies = Counter(), [], []
        self.article_ids = ["000_abc709b6f580d3e9"]
        self.lock = threading.Lock()
        self.rng = random.Random(0)

    def one(self, conn, path, params, expected):
        if path == "/article":
            with self.lock:
                article_id = self.rng.choice(self.article_ids)
            url = f"/article/{article_id}?{urlencode(params)}"
        else:
            url = path + ("?" + urlencode(params) if params else "")
        started = time.perf_counter()
        conn.request("GET", url)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        with self.lock:
            self.statuses[response.status] += 1
            self.latencies.append(elapsed)
            if response.status >= 500 or response.status not in expected:
                self.errors.append(f"{response.status} {url}")
        if path == "/api/search" and response.status == 200:
            hits = json.loads(body).get("hits") or []
            if hits:
                with self.lock:
                    if len(self.article_ids) < 200:
                        self.article_ids.append(hits[0]["id"])

    def client(self, n, deadline):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = n
        while time.monotonic() < deadline:
            path, params, expected = self.requests[i % len(self.requests)]
            i += self.clients
            try:
                self.one(conn, path, params, expected)
            except Exception as e:  # noqa: BLE001 - any exception is an error
                with self.lock:
                    self.errors.append(f"{type(e).__name__}: {e} on {path}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()

    def run(self):
        deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.client, args=(n, deadline)) for n in range(self.clients)]
        for t in threads:
            t.start()
        return threads


def rss(pid):
    try:
        proc = psutil.Process(pid)
        return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
    except psutil.NoSuchProcess:
        return 0


def wait_ready(port, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer in time")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--index-dir", help="an existing index (default: the sample articles, indexed into a temp folder)")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="soak-"))
    index_dir = Path(args.index_dir) if args.index_dir else work / "ix"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "webui.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--index-dir", str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=open(work / "server.log", "wb"))
    try:
        wait_ready(port, server)
        print(f"serving {index_dir} on 127.0.0.1:{port} (pid {server.pid}); {args.seconds:.0f} s, "
              f"{args.clients} clients", flush=True)
        load = Load(port, plan(args.seed), args.clients, args.seconds)
        started = time.monotonic()
        threads = load.run()
        samples = []  # (seconds since start, rss bytes)
        while any(t.is_alive() for t in threads):
            now = time.monotonic() - started
            samples.append((now, rss(server.pid)))
            with load.lock:
                done, errors = sum(load.statuses.values()), len(load.errors)
            print(f"  {now:5.0f} s  {done:7d} requests  {errors} errors  rss {samples[-1][1] / 2**20:7.1f} MB",
                  flush=True)
            for t in threads:
                t.join(timeout=max(0.0, 10 - (time.monotonic() - started - now)))
        samples.append((time.monotonic() - started, rss(server.pid)))
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    elapsed = time.monotonic() - started
    total = sum(load.statuses.values())
    latencies = sorted(load.latencies)
    pct = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (lambda q: 0)
    if elapsed >= 180:
        early = [r for t, r in samples if 60 <= t < 120]
        late = [r for t, r in samples if t >= elapsed - 60]
        windows = "second minute vs last minute"
    else:
        third = elapsed / 3
        early = [r for t, r in samples if third <= t < 2 * third]
        late = [r for t, r in samples if t >= 2 * third]
        windows = "second third vs last third (run shorter than 3 minutes)"
    early_avg = sum(early) / len(early) if early else 0
    late_avg = sum(late) / len(late) if late else 0
    growth = (late_avg / early_avg - 1) if early_avg else 0.0
    flat = bool(early and late) and growth <= 0.10

    print(f"\n{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s); statuses {dict(sorted(load.statuses.items()))}")
    print(f"latency p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms, max {pct(1.0):.0f} ms")
    print(f"errors: {len(load.errors)}" + "".join(f"\n  {e}" for e in load.errors[:20]))
    print(f"memory ({windows}): {early_avg / 2**20:.1f} MB -> {late_avg / 2**20:.1f} MB ({growth:+.1%}): "
          f"{'flat' if flat else 'GROWING' if early and late else 'not enough samples'}")
    print(f"server still running at the end: {alive}")
    ok = not load.errors and flat and alive
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
