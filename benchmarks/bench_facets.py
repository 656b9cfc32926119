"""Facet counts against a brute-force count, on the dantri articles (real dates and places).

For each query, every hit is paged out and its stored fields counted by hand;
the facet counts the engine reports (read from columns, unscored) must equal
them exactly, value by value. Also prints how long facet counting takes
beside a search without facets, and the locality coverage of the set.

    python -m benchmarks.bench_facets [--data ../shared/data] [--out benchmarks/out/dantri_index]
"""

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import data_dir, percentile  # noqa: E402
from index.store.directory import exists  # noqa: E402
from index.writer import index_articles  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.request import SearchRequest  # noqa: E402

QUERIES = [
    {"q": "giao thông"}, {"q": "học sinh"}, {"q": "bóng đá"}, {"q": "kinh te"}, {"q": "Hà Nội"},
    {"q": "covid"}, {"q": "tai nạn", "sort": "newest"}, {"q": "", "province": "Hà Nội"},
    {"q": "bệnh viện", "region": "Đông Nam Bộ"}, {"q": "thời tiết", "from": "2020-01-01", "to": "2020-12-31"},
    {"q": "giá", "from": "2020-03-01", "to": "2020-03-31"}, {"q": "người dân", "province": "Hồ Chí Minh"},
]


def all_hits(engine, params):
    """Every hit of a query, paged out 100 at a time."""
    ids, page = [], 1
    while True:
        result = engine.search(SearchRequest.from_params({**params, "limit": "100", "page": str(page)}),
                               with_facets=False)
        ids += [h.id for h in result.hits]
        if len(ids) >= result.total or not result.hits:
            return ids, result.total
        page += 1


def brute_force(engine, ids):
    counts = {"province": Counter(), "year": Counter()}
    for article_id in ids:
        stored = engine.article(article_id)
        counts["province"][stored.get("province") or "-"] += 1
        published = stored.get("published")
        counts["year"][published[:4] if published else "-"] += 1
    return counts


def reported(result):
    counts = {"province": Counter(), "year": Counter()}
    for v in result.facets["region"]:
        if v.level == 1:
            counts["province"][v.value] = v.count
        elif v.value == "unknown":
            counts["province"]["-"] = v.count
    for v in result.facets["date"]:
        if v.level == 0:
            counts["year"][v.value or "-"] = v.count
    return counts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "dantri_index")
    args = p.parse_args(argv)

    docs = data_dir(args.data, "dantri") / "docs.jsonl"
    if not exists(args.out):
        started = time.perf_counter()
        summary = index_articles([docs], args.out)
        print(f"indexed dantri: {summary} ({time.perf_counter() - started:.0f} s)")
    failures = 0
    with_facets, without = [], []
    with Engine(args.out) as engine:
        for params in QUERIES:
            request = SearchRequest.from_params(params)
            t = time.perf_counter()
            result = engine.search(request)
            with_facets.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            engine.search(request, with_facets=False)
            without.append((time.perf_counter() - t) * 1000)
            ids, total = all_hits(engine, params)
            expected, got = brute_force(engine, ids), reported(result)
            ok = len(ids) == total == result.total
            for name in expected:
                # only provinces with a known region are listed under one; all of them must match
                for value, n in expected[name].items():
                    if got[name].get(value, 0) != n:
                        ok = False
                        print(f"  {name}={value}: facet {got[name].get(value, 0)} != brute force {n}")
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {params}: {total} hits, {len(expected['province'])} provinces, "
                  f"{len(expected['year'])} years")
        stats = engine.search(SearchRequest.from_params({"q": "", "region": "unknown"}), with_facets=False).total
        count = engine.searcher().doc_count()
    print(f"\nfacet counts equal brute force for {len(QUERIES) - failures}/{len(QUERIES)} queries")
    print(f"latency with facets p50 {percentile(with_facets, 50):.1f} ms p95 {percentile(with_facets, 95):.1f} ms; "
          f"baseline without facets p50 {percentile(without, 50):.1f} ms p95 {percentile(without, 95):.1f} ms")
    print(f"locality found for {count - stats}/{count} articles ({(count - stats) / count:.0%})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
