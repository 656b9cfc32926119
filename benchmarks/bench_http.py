"""HTTP throughput of the web app under waitress on loopback, against its own /healthz, in the same run.

The server (`webui.app.create_app({"INDEX_DIR": ...})` under waitress, 8
threads) runs in a subprocess on 127.0.0.1 and a free port. A load generator in
this process (8 client threads, one keep-alive http.client connection each,
loopback only) sends, bounded by --seconds and --max-requests:

  baseline  GET /healthz in a loop: the server's fixed cost per request
  load      GET /search?q=... and /api/search?q=... alternately, over the query
            set of bench_query.py (made at run time from the data)

Reported: requests/s, p50/p95 latency, errors (anything but 200, or a broken
connection), server RSS at start and end (and its peak, polled).

    python benchmarks/bench_http.py [--index DIR] [--seconds 20] [--max-requests 5000]
                                    [--clients 8] [--no-results]

Goals (issue): >= 100 req/s at p95 <= 100 ms; 0 errors; server RSS <= 400 MB.
Client and server share the machine's cores.
"""

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import DEFAULT_INDEX, ROOT, TreeMemory, commit, load, machine, mb, stamp, table, \
    update_results, verdict  # noqa: E402
from benchmarks.bench_query import BAOMOI, XQUAD, SEED, query_set  # noqa: E402
from benchmarks.common import percentile  # noqa: E402

GOAL_RPS = 100.0
GOAL_P95 = 100.0
GOAL_RSS = 400 * 2 ** 20
HOST = "127.0.0.1"
TIMEOUT = 300  # seconds a client waits for one response: a slow answer is measured, not an error

SERVER = """
import sys
from waitress import serve
from webui.app import create_app
serve(create_app({"INDEX_DIR": sys.argv[1]}), host="127.0.0.1", port=int(sys.argv[2]), threads=int(sys.argv[3]),
      ident="vnsearch", _quiet=True)
"""


def private(process):
    """Memory only this process holds (USS): not the index files it maps, not shared libraries."""
    import psutil

    try:
        return process.memory_full_info().uss
    except (psutil.Error, AttributeError):
        return 0


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(index_dir, threads, timeout=120.0):
    """(process, port): the app served by waitress in a subprocess, once /healthz answers 200."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(index_dir), str(port), str(threads)],
                            cwd=ROOT, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status == 200:
                return proc, port, body.decode()
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    sys.exit(f"the server did not answer /healthz within {timeout:.0f} s")


def load_run(port, paths, clients, seconds, max_requests):
    """Send `paths` (cycled; each client starts elsewhere) from `clients` threads; returns the figures."""
    latencies, errors, examples = [], [], []
    lock = threading.Lock()
    sent = [0]
    stop_at = time.perf_counter() + seconds

    def client(n):
        conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        i = n * len(paths) // clients
        mine = []
        while time.perf_counter() < stop_at:
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as e:
                status = f"{type(e).__name__}: {e}"
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            mine.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                with lock:
                    errors.append(status)
                    if len(examples) < 5:
                        examples.append(f"{status} {path}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "seconds": wall, "rps": len(latencies) / wall,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "errors": len(errors), "examples": examples}


def show(name, r):
    return (f"{name}: {r['requests']:,} requests in {r['seconds']:.1f} s = {r['rps']:,.1f} req/s; "
            f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms; {r['errors']} errors"
            + (f" (e.g. {'; '.join(r['examples'])})" if r["examples"] else ""))


def main(argv=None):
    import psutil

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="an index built by bench_index.py")
    p.add_argument("--docs", default=str(BAOMOI))
    p.add_argument("--xquad", default=str(XQUAD))
    p.add_argument("--seconds", type=float, default=20.0, help="length of the load run")
    p.add_argument("--baseline-seconds", type=float, default=5.0, help="length of the /healthz run")
    p.add_argument("--max-requests", type=int, default=5000, help="at most this many requests per run")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--threads", type=int, default=8, help="waitress threads")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    print(f"machine: {machine()}\ncommit: {commit()}\nindex: {args.index}\nload average: {load()}", flush=True)
    queries = [q for _, q in query_set(Path(args.docs), Path(args.xquad), args.seed)]
    random.Random(args.seed + 3).shuffle(queries)
    paths = [("/search?" if n % 2 == 0 else "/api/search?") + urlencode({"q": q}) for n, q in enumerate(queries)]

    proc, port, health = start_server(args.index, args.threads)
    try:
        server = psutil.Process(proc.pid)
        rss_start, uss_start = server.memory_info().rss, private(server)
        print(f"server pid {proc.pid} on {HOST}:{port}: {health.strip()}; RSS {mb(rss_start)} at start "
              f"(private: USS {mb(uss_start)})", flush=True)
        # first requests: every waitress thread opens its searcher, templates, caches, columns
        warm = load_run(port, paths[-2 * args.threads:], args.threads, 600, 2 * args.threads)
        rss_warm, uss_warm = server.memory_info().rss, private(server)
        print(f"warm-up: {warm['requests']} requests in {warm['seconds']:.1f} s, {warm['errors']} errors; "
              f"server RSS {mb(rss_warm)}, private (USS) {mb(uss_warm)}", flush=True)

        base = load_run(port, ["/healthz"], args.clients, args.baseline_seconds, args.max_requests)
        print(show("baseline /healthz", base), flush=True)
        with TreeMemory(proc.pid, interval=0.25) as memory:
            result = load_run(port, paths, args.clients, args.seconds, args.max_requests)
        rss_end, uss_end = server.memory_info().rss, private(server)
        print(show("search mix", result), flush=True)
        print(f"server RSS: {mb(rss_start)} at start, {mb(rss_warm)} after warm-up, {mb(rss_end)} at end, "
              f"peak {mb(memory.peak_rss)} (goal <= {mb(GOAL_RSS)}); private memory (USS, without mapped index "
              f"files): {mb(uss_start)}, {mb(uss_warm)}, {mb(uss_end)}", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    ok_rps = result["rps"] >= GOAL_RPS
    ok_p95 = result["p95"] <= GOAL_P95
    ok_errors = result["errors"] == 0 and warm["errors"] == 0 and base["errors"] == 0
    ok_rss = max(rss_end, memory.peak_rss) <= GOAL_RSS
    print(f"goals: >= {GOAL_RPS:.0f} req/s {verdict(ok_rps)}; p95 <= {GOAL_P95:.0f} ms {verdict(ok_p95)}; "
          f"0 errors {verdict(ok_errors)}; RSS <= 400 MB {verdict(ok_rss)}")

    if not args.no_results:
        rows = [
            ("search mix: requests/s", f"{result['rps']:,.1f} ({result['requests']:,} in {result['seconds']:.1f} s)",
             f">= {GOAL_RPS:.0f}", verdict(ok_rps)),
            ("search mix: latency p50 / p95 / p99", f"{result['p50']:.0f} / {result['p95']:.0f} / "
             f"{result['p99']:.0f} ms", f"p95 <= {GOAL_P95:.0f} ms", verdict(ok_p95)),
            ("errors (warm-up, baseline, search mix)", f"{warm['errors']}, {base['errors']}, {result['errors']}",
             "0", verdict(ok_errors)),
            ("server RSS start / after warm-up / end / peak", f"{mb(rss_start)} / {mb(rss_warm)} / {mb(rss_end)} / "
             f"{mb(memory.peak_rss)}", "<= 400 MB", verdict(ok_rss)),
            ("server private memory (USS) start / after warm-up / end", f"{mb(uss_start)} / {mb(uss_warm)} / "
             f"{mb(uss_end)}", "", ""),
            ("warm-up: one request per waitress thread, twice", f"{warm['requests']} requests in "
             f"{warm['seconds']:.1f} s", "", ""),
            ("baseline: /healthz requests/s", f"{base['rps']:,.0f}", "", ""),
            ("baseline: /healthz latency p50 / p95", f"{base['p50']:.1f} / {base['p95']:.1f} ms", "", ""),
        ]
        body = stamp() + (f"- server: waitress, {args.threads} threads, 127.0.0.1; load: {args.clients} client "
                          f"threads with keep-alive in one process on the same machine, "
                          f"/search and /api/search alternately over {len(queries)} queries; "
                          f"bounded by {args.seconds:g} s and {args.max_requests:,} requests\n\n")
        body += table(rows)
        update_results("HTTP (bench_http.py)", body)
        print("updated benchmarks/RESULTS.md")
    return 0 if ok_errors else 1


if __name__ == "__main__":
    sys.exit(main())
