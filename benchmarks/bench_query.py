"""Query latency of `Engine.search` on the baomoi2017 index, against plain BM25 (bm25s), in the same run.

The query set (>= 200, fixed by a seed, made at run time from the data, never
committed): XQuAD dev questions, baomoi titles, one- and two-word queries
drawn from titles (pyvi words), and the no-diacritics form (`fold`) of a
quarter of each. It is written to benchmarks/out/queries.txt for inspection.

Measured, per query, in rotating order after a warm-up of 20 queries:
  ours        Engine.search: first page of 10 with snippets and all facets
  no facets   the same with with_facets=False
  bm25s       plain BM25 in numpy over the same articles' lower-cased syllables
              (benchmarks.eval_xquad.Baseline), the 10 best article ids; no facets,
              no snippets, no stored fields

    python benchmarks/bench_query.py [--index DIR] [--rounds N] [--no-results]

Goal (issue): p95 <= 50 ms for ours.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import BAOMOI, DEFAULT_INDEX, load, machine, commit, stamp, table, update_results, \
    verdict  # noqa: E402
from benchmarks.common import DATA, OUT, percentile  # noqa: E402

XQUAD = DATA / "xquad_vi" / "queries.dev.jsonl"
GOAL_P95 = 50.0
WARMUP = 20
SEED = 2017


# ---- the query set --------------------------------------------------------------------------------

def _titles(docs):
    titles = []
    with open(docs, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                title = (json.loads(line).get("title") or "").strip()
                if title:
                    titles.append(title)
    return titles


def _title_words(title):
    """pyvi's words of a title that are words (letters), as a person would type them."""
    from index.analysis import segmenter

    prepared = segmenter.prepare(title)
    out = []
    for word in segmenter.words(title):
        text = " ".join(prepared[s:e] for s, e in word)
        if all(any(c.isalpha() for c in prepared[s:e]) for s, e in word) and len(text) >= 2:
            out.append(text)
        else:
            out.append(None)  # keeps adjacency honest: no pair across punctuation
    return out


def make_queries(docs=BAOMOI, xquad=XQUAD, seed=SEED, questions=70, titles=50, singles=40, pairs=40,
                 folded_share=0.25):
    """[(kind, query)], deterministic for a given seed and data."""
    from index.analysis.normalize import fold

    rng = random.Random(seed)
    with open(xquad, encoding="utf-8") as f:
        qs = sorted({json.loads(line)["question"].strip() for line in f if line.strip()})
    all_titles = _titles(docs)
    chosen = [("question", q) for q in rng.sample(qs, questions)]
    chosen += [("title", t) for t in rng.sample(all_titles, titles)]
    pool = rng.sample(all_titles, 2000)
    one, two = [], []
    for title in pool:
        words = _title_words(title)
        good = [w for w in words if w]
        if good and len(one) < singles:
            one.append(rng.choice(good).lower())
        pairs_here = [f"{a} {b}".lower() for a, b in zip(words, words[1:]) if a and b]
        if pairs_here and len(two) < pairs:
            two.append(rng.choice(pairs_here))
        if len(one) >= singles and len(two) >= pairs:
            break
    chosen += [("one word", w) for w in one] + [("two words", w) for w in two]
    by_kind = {}
    for kind, q in chosen:
        by_kind.setdefault(kind, []).append(q)
    for kind, items in list(by_kind.items()):
        for q in rng.sample(items, max(1, round(len(items) * folded_share))):
            chosen.append((f"{kind}, folded", fold(q)))
    return chosen


def query_set(docs=BAOMOI, xquad=XQUAD, seed=SEED, write=True):
    queries = make_queries(docs, xquad, seed)
    if write:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "queries.txt").write_text("".join(f"{kind}\t{q}\n" for kind, q in queries), encoding="utf-8")
    return queries


# ---- the measurements -----------------------------------------------------------------------------

def baseline(docs):
    """bm25s indexed over the articles of `docs` (title, sapo, body), as eval_xquad's baseline."""
    from benchmarks.eval_xquad import Baseline, article_texts

    return Baseline(*article_texts(docs))


def summary(ms):
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
            "mean": sum(ms) / len(ms), "max": max(ms)}


def fmt(s):
    return f"p50 {s['p50']:.1f}  p95 {s['p95']:.1f}  p99 {s['p99']:.1f}  mean {s['mean']:.1f}  max {s['max']:.1f} ms"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="an index built by bench_index.py")
    p.add_argument("--docs", default=str(BAOMOI))
    p.add_argument("--xquad", default=str(XQUAD))
    p.add_argument("--rounds", type=int, default=1, help="times each query is measured")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--limit-queries", type=int, help="measure only N of the queries (sampled; quick checks)")
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    from search.engine import Engine
    from search.request import SearchRequest

    print(f"machine: {machine()}\ncommit: {commit()}\nindex: {args.index}\nload average: {load()}", flush=True)
    started = time.perf_counter()
    queries = query_set(Path(args.docs), Path(args.xquad), args.seed)
    kinds = {}
    for kind, _ in queries:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"{len(queries)} queries made in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{n} {k}" for k, n in kinds.items()), flush=True)

    started = time.perf_counter()
    engine = Engine(args.index, recent_results=0)  # every search measured is searched
    searcher = engine.searcher()
    docs = searcher.doc_count()
    print(f"engine opened in {(time.perf_counter() - started) * 1000:.0f} ms: {docs:,} articles", flush=True)
    started = time.perf_counter()
    engine.warm()  # as a server does once per commit: columns, dates, the longest posting lists
    print(f"engine warmed in {time.perf_counter() - started:.1f} s (the commit's columns and its longest posting "
          f"lists, as a server does once per commit)", flush=True)
    requests = [SearchRequest.from_params({"q": q}) for _, q in queries]
    started = time.perf_counter()
    bm25 = baseline(args.docs)
    print(f"baseline: bm25s indexed {len(bm25.ids):,} articles in {time.perf_counter() - started:.1f} s", flush=True)

    def ours(i):
        return engine.search(requests[i])

    def no_facets(i):
        return engine.search(requests[i], with_facets=False)

    def bm25s_alone(i):
        return bm25.run([{"qid": i, "question": queries[i][1]}])

    variants = {"ours": ours, "no facets": no_facets, "bm25s": bm25s_alone}
    first = {}
    warm = random.Random(args.seed + 1).sample(range(len(queries)), WARMUP)
    for i in warm:
        for fn in variants.values():
            fn(i)
    times = {name: [[] for _ in queries] for name in variants}
    cpu = {name: [] for name in variants}  # thread CPU time: what the query costs, whatever else runs
    totals = [0] * len(queries)
    names = list(variants)
    # measured in a shuffled order (kinds mixed, so partial progress is representative)
    measured = list(range(len(queries)))
    random.Random(args.seed + 2).shuffle(measured)
    if args.limit_queries:
        measured = measured[:args.limit_queries]
    log = open(OUT / "bench_query_times.jsonl", "w", encoding="utf-8")
    started = time.perf_counter()
    for r in range(args.rounds):
        for step, i in enumerate(measured, 1):
            order = names[(step + r) % 3:] + names[:(step + r) % 3]  # rotate: no variant always runs first
            for name in order:
                c0, t0 = time.thread_time(), time.perf_counter()
                value = variants[name](i)
                times[name][i].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((time.thread_time() - c0) * 1000)
                if name == "ours":
                    totals[i] = value.total
                    first.setdefault(i, value)
            log.write(json.dumps({"round": r, "kind": queries[i][0], "q": queries[i][1], "total": totals[i],
                                  **{name: round(times[name][i][-1], 1) for name in names}},
                                 ensure_ascii=False) + "\n")
            log.flush()
            if step % 10 == 0:
                done = [t for per in times["ours"] for t in per]
                print(f"  {step}/{len(measured)} queries, {time.perf_counter() - started:.0f} s: ours p50 "
                      f"{percentile(done, 50):.0f} ms, p95 {percentile(done, 95):.0f} ms so far", flush=True)
    log.close()
    print(f"measured {len(measured)} queries x {args.rounds} round(s) x 3 variants in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    if args.limit_queries:  # only the measured queries count from here on
        keep = set(measured)
        queries = [q for n, q in enumerate(queries) if n in keep]
        times = {name: [per for n, per in enumerate(times[name]) if n in keep] for name in names}
        totals = [t for n, t in enumerate(totals) if n in keep]
        first = {new: first[old] for new, old in enumerate(sorted(keep)) if old in first}
        kinds = {}
        for kind, _ in queries:
            kinds[kind] = kinds.get(kind, 0) + 1

    stats = {name: summary([t for per in times[name] for t in per]) for name in variants}
    cpu_stats = {name: summary(cpu[name]) for name in variants}
    print("wall clock:")
    for name in variants:
        print(f"{name:>10}: {fmt(stats[name])}")
    print("CPU time of the searching thread (less sensitive to other processes):")
    for name in variants:
        print(f"{name:>10}: {fmt(cpu_stats[name])}")
    ok = stats["ours"]["p95"] <= GOAL_P95
    print(f"goal p95 <= {GOAL_P95:.0f} ms (ours, with snippets and facets): {verdict(ok)}")
    empty = sum(1 for t in totals if t == 0)
    fallback = sum(1 for v in first.values() if v.fallback)
    print(f"{empty} queries found nothing; {fallback} answered by the any-word fallback")

    by_kind = {}
    for i, (kind, _) in enumerate(queries):
        by_kind.setdefault(kind, []).extend(times["ours"][i])
    print("\nours by kind of query:")
    kind_rows = []
    for kind, ms in by_kind.items():
        s = summary(ms)
        kind_rows.append((kind, len(ms) // args.rounds, f"{s['p50']:.1f}", f"{s['p95']:.1f}", f"{s['max']:.1f}"))
        print(f"  {kind:<22} {len(ms) // args.rounds:4d}  {fmt(s)}")

    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    slow = sorted(range(len(queries)), key=lambda i: -median(times["ours"][i]))[:10]
    print("\nslowest 10 (ours, median of rounds): ms ours / no facets / bm25s, total hits, query")
    slow_rows = []
    for i in slow:
        kind, q = queries[i]
        row = (f"{median(times['ours'][i]):.0f}", f"{median(times['no facets'][i]):.0f}",
               f"{median(times['bm25s'][i]):.0f}", f"{totals[i]:,}", kind, q.replace("|", "\\|"))
        slow_rows.append(row)
        print(f"  {row[0]:>5} {row[1]:>5} {row[2]:>5}  {row[3]:>7}  [{kind}] {q}")

    if not args.no_results:
        rows = [
            ("ours: Engine.search, 10 hits, snippets, all facets", f"{stats['ours']['p50']:.1f}",
             f"{stats['ours']['p95']:.1f}", f"{stats['ours']['p99']:.1f}", f"<= {GOAL_P95:.0f} ms p95", verdict(ok)),
            ("ours without facets", f"{stats['no facets']['p50']:.1f}", f"{stats['no facets']['p95']:.1f}",
             f"{stats['no facets']['p99']:.1f}", "", ""),
            ("baseline: bm25s, plain BM25 over lower-cased syllables, top 10 ids (no facets, no snippets)",
             f"{stats['bm25s']['p50']:.1f}", f"{stats['bm25s']['p95']:.1f}", f"{stats['bm25s']['p99']:.1f}", "", ""),
        ]
        body = stamp() + (f"- index: {docs:,} articles (`{args.index}`)\n- queries: {len(queries)} made at run time "
                          f"(seed {args.seed}): " + ", ".join(f"{n} {k}" for k, n in kinds.items())
                          + f"; warm-up {WARMUP}; {args.rounds} round(s); {empty} found nothing, "
                          f"{fallback} by the any-word fallback\n\n")
        body += table(rows, header=("wall-clock latency (ms)", "p50", "p95", "p99", "goal", "result"))
        body += "\nCPU time of the searching thread (ms), less sensitive to the machine's other load:\n\n"
        body += table([(name, f"{cpu_stats[name]['p50']:.1f}", f"{cpu_stats[name]['p95']:.1f}",
                        f"{cpu_stats[name]['p99']:.1f}") for name in variants],
                      header=("variant", "p50", "p95", "p99"))
        body += "\nOurs by kind of query (ms):\n\n"
        body += table(kind_rows, header=("kind", "queries", "p50", "p95", "max"))
        body += "\nSlowest 10 queries (ms):\n\n"
        body += table(slow_rows, header=("ours", "no facets", "bm25s", "total hits", "kind", "query"))
        update_results("Query latency (bench_query.py)", body)
        print("updated benchmarks/RESULTS.md")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
