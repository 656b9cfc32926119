"""HTTP throughput of the web app under waitress on loopback, against its own /healthz, in the same run.

The server is `vnsearch serve` as a user runs it (waitress, one process per
core sharing the port, 8 threads each), in a subprocess on 127.0.0.1 and a
free port. A load generator in
this process (8 client threads, one keep-alive http.client connection each,
loopback only) sends, bounded by --seconds and --max-requests:

  baseline  GET /healthz in a loop: the server's fixed cost per request
  distinct  each search of the load below not yet asked, once: every request
            is searched (the server keeps recent results per commit)
  load      GET /search?q=... and /api/search?q=... alternately, over the query
            set of bench_query.py (made at run time from the data), cycled: as
            in real traffic, searches come again, and are answered from the
            server's recent results

Reported: requests/s, p50/p95 latency, errors (anything but 200, or a broken
connection), the server's memory over its processes at start, after warm-up,
at the end and at its peak (polled): PSS, which counts pages the processes
share (Python, numpy, pyvi's model, loaded before the fork) once, and RSS
summed, which counts them in every process.

    python benchmarks/bench_http.py [--index DIR] [--seconds 20] [--max-requests 5000]
                                    [--clients 8] [--processes N] [--no-results]

Goals (issue): >= 100 req/s at p95 <= 100 ms; 0 errors; server memory <= 400 MB.
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
GOAL_MEMORY = 400 * 2 ** 20
HOST = "127.0.0.1"
TIMEOUT = 300  # seconds a client waits for one response: a slow answer is measured, not an error


def server_memory(pid):
    """(PSS, RSS) summed over the server's processes."""
    rss, pss, _, _ = TreeMemory(pid).sample(with_pss=True)
    return pss, rss


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(index_dir, threads, processes, timeout=120.0):
    """(process, port): `vnsearch serve` in a subprocess, once /healthz answers 200."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "webui.cli", "--index-dir", str(index_dir), "serve",
                             "--port", str(port), "--threads", str(threads), "--processes", str(processes)],
                            cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
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
    import psutil  # noqa: F401  (a bench dependency: say so before starting a server)

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="an index built by bench_index.py")
    p.add_argument("--docs", default=str(BAOMOI))
    p.add_argument("--xquad", default=str(XQUAD))
    p.add_argument("--seconds", type=float, default=20.0, help="length of the load run")
    p.add_argument("--baseline-seconds", type=float, default=5.0, help="length of the /healthz run")
    p.add_argument("--max-requests", type=int, default=5000, help="at most this many requests per run")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--threads", type=int, default=8, help="waitress threads per process")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    print(f"machine: {machine()}\ncommit: {commit()}\nindex: {args.index}\nload average: {load()}", flush=True)
    queries = [q for _, q in query_set(Path(args.docs), Path(args.xquad), args.seed)]
    random.Random(args.seed + 3).shuffle(queries)
    paths = [("/search?" if n % 2 == 0 else "/api/search?") + urlencode({"q": q}) for n, q in enumerate(queries)]

    proc, port, health = start_server(args.index, args.threads, args.processes)
    try:
        pss_start, rss_start = server_memory(proc.pid)
        print(f"server pid {proc.pid} ({args.processes} processes x {args.threads} threads) on {HOST}:{port}: "
              f"{health.strip()}; memory at start: PSS {mb(pss_start)}, RSS summed {mb(rss_start)}", flush=True)
        # first requests: every waitress thread of every process opens its searcher, templates, caches, columns
        warm_count = 4 * args.threads * args.processes
        warm = load_run(port, paths[-warm_count:], args.threads, 600, warm_count)
        pss_warm, rss_warm = server_memory(proc.pid)
        print(f"warm-up: {warm['requests']} requests in {warm['seconds']:.1f} s, {warm['errors']} errors; "
              f"memory PSS {mb(pss_warm)}, RSS summed {mb(rss_warm)}", flush=True)

        base = load_run(port, ["/healthz"], args.clients, args.baseline_seconds, args.max_requests)
        print(show("baseline /healthz", base), flush=True)
        fresh = paths[:-warm_count]
        distinct = load_run(port, fresh, args.clients, args.seconds, len(fresh))
        print(show("distinct searches, none asked before", distinct), flush=True)
        with TreeMemory(proc.pid, interval=0.25, pss_every=2) as memory:
            result = load_run(port, paths, args.clients, args.seconds, args.max_requests)
        pss_end, rss_end = server_memory(proc.pid)
        print(show("search mix", result), flush=True)
        print(f"server memory, PSS: {mb(pss_start)} at start, {mb(pss_warm)} after warm-up, {mb(pss_end)} at end, "
              f"peak {mb(memory.peak_pss)} (goal <= {mb(GOAL_MEMORY)}); RSS summed over processes: {mb(rss_start)}, "
              f"{mb(rss_warm)}, {mb(rss_end)}, peak {mb(memory.peak_rss)}", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    ok_rps = result["rps"] >= GOAL_RPS
    ok_p95 = result["p95"] <= GOAL_P95
    ok_errors = not (result["errors"] or warm["errors"] or base["errors"] or distinct["errors"])
    ok_memory = max(pss_end, memory.peak_pss) <= GOAL_MEMORY
    ok_distinct_rps, ok_distinct_p95 = distinct["rps"] >= GOAL_RPS, distinct["p95"] <= GOAL_P95
    print(f"goals: >= {GOAL_RPS:.0f} req/s {verdict(ok_rps)} (distinct searches {verdict(ok_distinct_rps)}); "
          f"p95 <= {GOAL_P95:.0f} ms {verdict(ok_p95)} (distinct searches {verdict(ok_distinct_p95)}); "
          f"0 errors {verdict(ok_errors)}; memory <= 400 MB {verdict(ok_memory)}")

    if not args.no_results:
        rows = [
            ("search mix: requests/s", f"{result['rps']:,.1f} ({result['requests']:,} in {result['seconds']:.1f} s)",
             f">= {GOAL_RPS:.0f}", verdict(ok_rps)),
            ("search mix: latency p50 / p95 / p99", f"{result['p50']:.0f} / {result['p95']:.0f} / "
             f"{result['p99']:.0f} ms", f"p95 <= {GOAL_P95:.0f} ms", verdict(ok_p95)),
            ("distinct searches, none asked before: requests/s", f"{distinct['rps']:,.1f} ({distinct['requests']:,} "
             f"in {distinct['seconds']:.1f} s)", f">= {GOAL_RPS:.0f}", verdict(ok_distinct_rps)),
            ("distinct searches: latency p50 / p95 / p99", f"{distinct['p50']:.0f} / {distinct['p95']:.0f} / "
             f"{distinct['p99']:.0f} ms", f"p95 <= {GOAL_P95:.0f} ms", verdict(ok_distinct_p95)),
            ("errors (warm-up, baseline, distinct, search mix)",
             f"{warm['errors']}, {base['errors']}, {distinct['errors']}, {result['errors']}", "0", verdict(ok_errors)),
            ("server memory, PSS over its processes: start / after warm-up / end / peak",
             f"{mb(pss_start)} / {mb(pss_warm)} / {mb(pss_end)} / {mb(memory.peak_pss)}", "<= 400 MB",
             verdict(ok_memory)),
            ("server RSS summed over processes (shared pages counted in each): start / warm / end / peak",
             f"{mb(rss_start)} / {mb(rss_warm)} / {mb(rss_end)} / {mb(memory.peak_rss)}", "", ""),
            ("warm-up before measuring", f"{warm['requests']} requests in {warm['seconds']:.1f} s", "", ""),
            ("baseline: /healthz requests/s", f"{base['rps']:,.0f}", "", ""),
            ("baseline: /healthz latency p50 / p95", f"{base['p50']:.1f} / {base['p95']:.1f} ms", "", ""),
        ]
        body = stamp() + (f"- server: `vnsearch serve`, {args.processes} processes x {args.threads} waitress threads, "
                          f"127.0.0.1; load: {args.clients} client "
                          f"threads with keep-alive in one process on the same machine, "
                          f"/search and /api/search alternately over {len(queries)} queries, cycled (searches "
                          f"asked again are answered from the server's recent results); bounded by "
                          f"{args.seconds:g} s and {args.max_requests:,} requests. Before it, each of the "
                          f"{len(fresh)} searches not asked in the warm-up, once\n\n")
        body += table(rows)
        update_results("HTTP (bench_http.py)", body)
        print("updated benchmarks/RESULTS.md")
    return 0 if ok_errors else 1


if __name__ == "__main__":
    sys.exit(main())
