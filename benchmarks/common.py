"""Small helpers shared by the benchmark scripts: data paths, reading files, timing, metrics.

Nothing here knows about a particular benchmark; the scripts import what they need:

    from benchmarks.common import ROOT, data_dir, read_jsonl, read_qrels, Stopwatch, percentile, ranking_metrics
"""

import json
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project's root
DATA = ROOT.parent / "shared" / "data"  # ../shared/data, beside the project
OUT = ROOT / "benchmarks" / "out"  # git-ignored: caches, dumps, JSON figures

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def data_dir(given=None, sub=None):
    """The data folder (`given`, else ../shared/data), optionally a subfolder; exits with a message if missing."""
    path = Path(given) if given else DATA
    if sub:
        path = path / sub
    if not path.is_dir():
        sys.exit(f"no data folder {path}: pass --data DIR (the folder holding the shared corpora)")
    return path


def read_jsonl(path, limit=None):
    """The records of a JSON lines file (the first `limit` of them when given)."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
                if limit is not None and len(records) >= limit:
                    break
    return records


def read_qrels(path):
    """TREC qrels (`qid 0 docid rel`) as {qid: set of docids with rel > 0}."""
    qrels = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and int(parts[3]) > 0:
                qrels.setdefault(parts[0], set()).add(parts[2])
    return qrels


class Stopwatch:
    """Wall-clock seconds of named stages: `with watch("index"): ...`, then `watch.seconds`."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def __call__(self, name):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def report(self):
        return "  ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())


def timed(fn, *args, **kwargs):
    """(fn(*args, **kwargs), milliseconds it took)."""
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, (time.perf_counter() - started) * 1000


def percentile(values, p):
    """The p-th percentile (0..100) of `values`, linear between closest ranks; nan when empty."""
    values = sorted(values)
    if not values:
        return math.nan
    k = (len(values) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def first_relevant_rank(ranked, relevant, k=None):
    """1-based rank of the first relevant id among the first k of `ranked`, or None."""
    for i, doc in enumerate(ranked[:k] if k else ranked, 1):
        if doc in relevant:
            return i
    return None


def ranking_metrics(runs, qrels, mrr_at=10, recall_at=(1, 5, 10)):
    """Mean MRR@mrr_at and Recall@k over the questions of `runs` ({qid: ranked ids}).

    Recall@k is |relevant in top k| / |relevant| per question (a question with two
    relevant documents scores 0.5 when one of them is found), then averaged.
    Questions without qrels are left out.
    """
    qids = [q for q in runs if qrels.get(q)]
    n = len(qids) or 1
    out = {f"MRR@{mrr_at}": sum(1 / r for q in qids if (r := first_relevant_rank(runs[q], qrels[q], mrr_at))) / n}
    for k in recall_at:
        out[f"Recall@{k}"] = sum(len(set(runs[q][:k]) & qrels[q]) / len(qrels[q]) for q in qids) / n
    out["questions"] = len(qids)
    return out
