"""Locality extraction on the silver-labelled dev set, against a naive baseline.

The extractor reads lead + body only (the label came from the title). The
baseline names the province whose bare name occurs most often in the text,
abstaining on no mention or a tie. With --heldout: coverage and spread only.

    python -m benchmarks.bench_locality [--data PATH] [--heldout]
"""

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.analysis.normalize import canonical  # noqa: E402
from index.locality import gazetteer  # noqa: E402
from index.locality.extraction import extract_locality  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "locality"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def label_of(record):
    """The record's province as an old-province name, by code first."""
    by_code = {p.code: p.name for p in gazetteer.provinces()}
    if record.get("province_code") in by_code:
        return by_code[record["province_code"]]
    province = gazetteer.find_old_province(record.get("province") or "")
    return province.name if province else None


class Baseline:
    """The province whose bare name occurs most often; None on no mention or a tie."""

    def __init__(self):
        names = {canonical(p.name): p.name for p in gazetteer.provinces()}
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self.names = names
        self.pattern = re.compile(rf"(?<!\w)({alternatives})(?!\w)")

    def __call__(self, text):
        counts = Counter(self.names[m.group(1)] for m in self.pattern.finditer(canonical(text)))
        top = counts.most_common(2)
        if not top or (len(top) > 1 and top[0][1] == top[1][1]):
            return None
        return top[0][0]


def score(predictions, labels):
    answered = [(p, g) for p, g in zip(predictions, labels) if p is not None]
    correct = sum(p == g for p, g in answered)
    n = len(labels)
    return {
        "precision": correct / len(answered) if answered else 0.0,
        "coverage": len(answered) / n if n else 0.0,
        "accuracy": correct / n if n else 0.0,
    }


def timed_extract(records):
    """Predictions on lead + body (title empty) and the mean time per article in ms."""
    extract_locality("", "", "")  # load the gazetteer outside the timing
    start = time.perf_counter()
    predictions = [extract_locality("", r.get("lead", ""), r.get("body", "")).province for r in records]
    ms = (time.perf_counter() - start) * 1000 / max(len(records), 1)
    return predictions, ms


def print_scores(name, s):
    print(f"{name:<10} precision {s['precision']:.3f}  coverage {s['coverage']:.3f}  accuracy {s['accuracy']:.3f}")


def print_per_province(predictions, labels):
    totals, right = Counter(labels), Counter(g for p, g in zip(predictions, labels) if p == g)
    print("\nper-province accuracy (correct/articles):")
    rows = sorted(totals, key=lambda g: (-totals[g], g))
    for g in rows:
        print(f"  {g:<20} {right[g]:>3}/{totals[g]:<3} {right[g] / totals[g]:.2f}")


def print_confusions(predictions, labels, top=15):
    pairs = Counter((g, p) for p, g in zip(predictions, labels) if p is not None and p != g)
    print("\ntop confusions (label -> predicted):")
    for (g, p), n in pairs.most_common(top):
        print(f"  {n:>3}  {g} -> {p}")


def run_dev(path):
    records = read_jsonl(path)
    labels = [label_of(r) for r in records]
    predictions, ms = timed_extract(records)
    baseline = Baseline()
    base = [baseline(r.get("lead", "") + "\n" + r.get("body", "")) for r in records]
    ours, naive = score(predictions, labels), score(base, labels)
    print(f"{path}: {len(records)} articles")
    print_scores("extractor", ours)
    print_scores("baseline", naive)
    print(
        f"{'difference':<10} precision {ours['precision'] - naive['precision']:+.3f}  "
        f"coverage {ours['coverage'] - naive['coverage']:+.3f}  accuracy {ours['accuracy'] - naive['accuracy']:+.3f}"
    )
    print(f"speed      {ms:.3f} ms/article")
    print_per_province(predictions, labels)
    print_confusions(predictions, labels)


def run_heldout(path):
    records = read_jsonl(path)
    predictions, ms = timed_extract(records)
    answered = [p for p in predictions if p is not None]
    print(f"{path}: {len(records)} articles")
    print(f"coverage   {len(answered) / max(len(records), 1):.3f}")
    print(f"speed      {ms:.3f} ms/article")
    print("\ndistribution of answers:")
    for name, n in Counter(answered).most_common():
        print(f"  {name:<20} {n}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a JSONL file (default: ../shared/data/locality/dev.jsonl)")
    parser.add_argument("--heldout", action="store_true", help="run on heldout.jsonl: coverage and spread only")
    args = parser.parse_args(argv)
    if args.heldout:
        run_heldout(args.data or DATA / "heldout.jsonl")
    else:
        run_dev(args.data or DATA / "dev.jsonl")


if __name__ == "__main__":
    main()
