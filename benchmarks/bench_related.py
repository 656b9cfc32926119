"""Related articles' quality and latency on the baomoi2017 index, against searching the title, in the same run.

The check (issue 20): an article whose title another article repeats (the same
story from another paper, or its update) should find that article among its
related ones. The articles are every one whose title (folded, at least four
words) is shared by another article, sampled by a seed; each is asked for

  related     search.related.related: its five related articles
  title       the baseline: the article's title searched as a query (Engine.search, relevance), the
              first five hits other than itself

and counted found when one of the other articles with its title is among the five.
Latency is measured for both, per article.

    python benchmarks/bench_related.py [--index DIR] [--articles N] [--no-results]

The index should have the articles' dates (baomoi's `first_seen`), so that nearby dates are preferred as
on a real archive: `vnsearch index docs.jsonl --map date=first_seen --index-dir DIR`.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import BAOMOI, DEFAULT_INDEX, commit, load, machine, stamp, table, \
    update_results  # noqa: E402
from benchmarks.common import percentile  # noqa: E402

SEED = 2017
MIN_TITLE_WORDS = 4  # "Tin vắn" is shared by unrelated articles


def repeated_titles(docs):
    """{article id: the ids of the other articles with the same title}."""
    from index.analysis.normalize import fold

    by_title = {}
    with open(docs, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                title = " ".join(fold(record.get("title") or "").lower().split())
                if len(title.split()) >= MIN_TITLE_WORDS:
                    by_title.setdefault(title, []).append(str(record["id"]))
    return {article_id: set(ids) - {article_id} for ids in by_title.values() if len(ids) > 1 for article_id in ids}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="an index built by bench_index.py")
    p.add_argument("--docs", default=str(BAOMOI))
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    from search.engine import Engine
    from search.related import MAX_RELATED, related
    from search.request import SearchRequest

    print(f"machine: {machine()}\ncommit: {commit()}\nindex: {args.index}\nload average: {load()}", flush=True)
    repeats = repeated_titles(args.docs)
    chosen = random.Random(args.seed).sample(sorted(repeats), min(args.articles, len(repeats)))
    engine = Engine(args.index, recent_results=0)
    engine.warm()
    articles = engine.searcher().doc_count()
    print(f"{articles:,} articles; {len(repeats):,} share their title with another; {len(chosen)} sampled",
          flush=True)

    def by_related(article_id):
        return [r.id for r in related(engine, article_id)]

    def by_title(article_id):
        title = engine.article(article_id)["title"]
        hits = engine.search(SearchRequest(q=title, limit=MAX_RELATED + 1), with_facets=False).hits
        return [h.id for h in hits if h.id != article_id][:MAX_RELATED]

    variants = {"related": by_related, "title": by_title}
    found = {name: 0 for name in variants}
    itself = {name: 0 for name in variants}
    times = {name: [] for name in variants}
    for article_id in chosen:
        for name, fn in variants.items():
            started = time.perf_counter()
            ids = fn(article_id)
            times[name].append((time.perf_counter() - started) * 1000)
            found[name] += bool(repeats[article_id] & set(ids))
            itself[name] += article_id in ids
    rows = []
    for name in variants:
        share = found[name] / len(chosen)
        p50, p95 = percentile(times[name], 50), percentile(times[name], 95)
        print(f"{name:8s} found {found[name]}/{len(chosen)} ({share:.1%})  itself {itself[name]}  "
              f"p50 {p50:.1f} ms  p95 {p95:.1f} ms")
        rows.append((name, f"{found[name]}/{len(chosen)} ({share:.1%})", itself[name], f"{p50:.1f} ms",
                     f"{p95:.1f} ms"))
    if not args.no_results:
        body = (stamp() + f"- command: `python benchmarks/bench_related.py --index {args.index} --articles {args.articles}`\n\n"
                f"{len(chosen)} of the {len(repeats):,} baomoi articles whose title (folded, at least "
                f"{MIN_TITLE_WORDS} words) another article repeats, on {articles:,} articles; found: one of the "
                f"articles with the same title among the {MAX_RELATED} shown. Baseline: the title searched as a "
                f"query, the first {MAX_RELATED} hits other than the article. The index was made with "
                f"`vnsearch index docs.jsonl --map date=first_seen` (dates: nearby ones preferred).\n\n"
                + table(rows, header=("variant", "found", "itself shown", "p50", "p95")))
        update_results("Related articles (bench_related.py)", body)
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
