"""Suggestion latency (`GET /api/suggest`) on the baomoi2017 index, against a plain scan, in the same run.

The prefixes (fixed by a seed, made from the data at run time): the start of
one to three words of a baomoi title, cut inside its last syllable, as one types
it, and the same without marks for half of them. Each is measured

  api         GET /api/suggest through the Flask app (test client: routing, JSON, headers; no socket)
  suggester   search.suggest.Suggester.suggest alone
  scan        the baseline: every vocabulary word's folded form compared with the prefix (str.startswith
              in a loop), the most common five kept: what a first version without a sorted index does

    python benchmarks/bench_suggest.py [--index DIR] [--prefixes N] [--no-results]

Goal (issue 20): p95 <= 20 ms for api on 35,000 articles.
"""

import argparse
import heapq
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import BAOMOI, DEFAULT_INDEX, commit, load, machine, stamp, table, update_results, \
    verdict  # noqa: E402
from benchmarks.common import percentile  # noqa: E402

GOAL_P95 = 20.0
SEED = 2017
WARMUP = 20


def make_prefixes(docs, count, seed=SEED):
    """[prefix]: the start of 1-3 words of random titles, cut inside the last syllable; half folded."""
    from index.analysis.normalize import fold

    with open(docs, encoding="utf-8") as f:
        titles = [t for t in ((json.loads(line).get("title") or "").strip() for line in f if line.strip()) if t]
    rng = random.Random(seed)
    prefixes = []
    while len(prefixes) < count:
        words = [w for w in rng.choice(titles).split() if any(c.isalpha() for c in w)]
        if not words:
            continue
        start = rng.randrange(len(words))
        chosen = words[start:start + rng.randint(1, 3)]
        last = chosen[-1]
        chosen[-1] = last[:rng.randint(1, len(last))]
        prefix = " ".join(chosen).lower()
        prefixes.append(fold(prefix) if rng.random() < 0.5 else prefix)
    return prefixes


def scan_baseline(words):
    """The baseline: [(folded form, text, count)] compared one by one."""
    from search.suggest import _key

    entries = [(_key(word), word.replace("_", " "), count) for word, count in words.items()]

    def suggest(prefix):
        key = _key(prefix)
        return heapq.nlargest(5, ((count, text) for k, text, count in entries if k.startswith(key)))

    return suggest


def summary(ms):
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99), "max": max(ms)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="an index built by bench_index.py")
    p.add_argument("--docs", default=str(BAOMOI))
    p.add_argument("--prefixes", type=int, default=500)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    from search.suggest import suggester
    from webui.app import create_app
    from webui.engine import get_engine

    print(f"machine: {machine()}\ncommit: {commit()}\nindex: {args.index}\nload average: {load()}", flush=True)
    prefixes = make_prefixes(args.docs, args.prefixes, args.seed)
    app = create_app({"INDEX_DIR": args.index})
    client = app.test_client()
    engine = get_engine(app)
    articles = engine.searcher().doc_count()
    engine.warm()
    started = time.perf_counter()
    suggest = suggester(engine)
    built = time.perf_counter() - started
    print(f"{articles:,} articles; suggestions built in {built:.1f} s", flush=True)
    vocabulary = engine.commit(engine.searcher()).vocabulary(engine.searcher().reader())
    scan = scan_baseline(dict(vocabulary.words.values()))

    def api(prefix):
        response = client.get("/api/suggest?q=" + quote(prefix))
        assert response.status_code == 200, response.status_code
        return response.get_json()["suggestions"]

    variants = {"api": api, "suggester": suggest.suggest, "scan": scan}
    for prefix in prefixes[:WARMUP]:
        for fn in variants.values():
            fn(prefix)
    times = {name: [] for name in variants}
    answered = 0
    for prefix in prefixes:
        for name, fn in variants.items():
            started = time.perf_counter()
            found = fn(prefix)
            times[name].append((time.perf_counter() - started) * 1000)
            if name == "api":
                answered += bool(found)
    figures = {name: summary(ms) for name, ms in times.items()}
    examples = {q: [s["text"] for s in api(q)][:3] for q in ("dang v", "ha n", "bong d", "thu t")}
    for name, f in figures.items():
        print(f"{name:10s} p50 {f['p50']:.2f} ms  p95 {f['p95']:.2f} ms  p99 {f['p99']:.2f} ms  max {f['max']:.1f} ms")
    print(f"{answered}/{len(prefixes)} prefixes answered with at least one suggestion")
    for q, found in examples.items():
        print(f"  {q!r}: {found}")
    ok = figures["api"]["p95"] <= GOAL_P95
    print(f"goal p95 <= {GOAL_P95:.0f} ms: {verdict(ok)}")
    if not args.no_results:
        rows = [(name, f"{f['p50']:.2f} ms", f"{f['p95']:.2f} ms", f"{f['p99']:.2f} ms", f"{f['max']:.1f} ms")
                for name, f in figures.items()]
        body = (stamp() + f"- command: `python benchmarks/bench_suggest.py --index {args.index} --prefixes {args.prefixes}`\n\n"
                f"{len(prefixes)} prefixes typed from baomoi titles (1-3 words, the last cut short; half without "
                f"marks) on {articles:,} articles; the suggestions are built once per commit in {built:.1f} s "
                f"(warmed with the index). {answered}/{len(prefixes)} prefixes got at least one suggestion.\n\n"
                + table(rows, header=("variant", "p50", "p95", "p99", "max"))
                + f"\nGoal: p95 <= {GOAL_P95:.0f} ms through the API: {verdict(ok)} "
                  f"({figures['api']['p95']:.2f} ms; the baseline scan's p95 is {figures['scan']['p95']:.0f} ms).\n\n"
                + "Examples: " + "; ".join(f"`{q}` → {', '.join(found)}" for q, found in examples.items()) + "\n")
        update_results("Suggestions as you type (bench_suggest.py)", body)
    engine.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
