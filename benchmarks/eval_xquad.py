"""Ranking quality on XQuAD Vietnamese, through the real index and search path, against plain BM25.

Three settings, each scored with MRR@10 and Recall@1/5/10:

  (a) written   the 1,209 sentences indexed as documents; questions as written
  (b) folded    the same index; questions with every diacritic removed
  (c) distract  the 240 paragraphs mixed into the 35k baomoi2017 articles; paragraph qrels

Ours: `index.writer.index_articles` into a Whoosh index on disk, then
`search.engine.Engine.search` for every question. Baseline: BM25 (bm25s, k1=1.5,
b=0.75, Lucene idf) over lower-cased `\\w+` syllables (folded on both sides for b).
The record's `title` (the Wikipedia article name) is never indexed: it would leak.

    python -m benchmarks.eval_xquad [--limit N] [--skip-distractors] [--data DIR]
                                    [--cache DIR] [--distractors-from DIR] [--json OUT] [--results]
                                    [--failures FILE] [--folds K [--seed N] [--passes N]]

--folds K cross-validates the ranking's weights on (a) and (b) instead: the
questions are split into K folds (by paragraph, with a fixed seed); for each
fold the weights are tuned on the other folds (a coordinate search over each
weight's candidate values, `TUNED`) and MRR@10 is measured on the held-out
fold, so the figure is not measured on the questions the weights were chosen on.

(c) indexes 35k articles (minutes): the index is kept in --cache (benchmarks/out/)
and reused when it is complete; --distractors-from starts it from a copy of an
index of the baomoi articles (bench_index.py's), so only the paragraphs are new.
"""

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.common import (OUT, Stopwatch, data_dir, first_relevant_rank, percentile, ranking_metrics,  # noqa: E402
                               read_jsonl, read_qrels)

from index.analysis.normalize import fold  # noqa: E402
from index.sources.articles import FieldMap  # noqa: E402
from index.writer import index_articles  # noqa: E402
from search import postings, ranking  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.request import SearchRequest  # noqa: E402

K = 10
TOKEN = re.compile(r"\w+")
NO_TITLE = "__no_such_field__"  # map title to a field no record has: the title must not be indexed
SENTENCE_FIELDS = ["id=sid", "body=text", f"title={NO_TITLE}"]
PARAGRAPH_FIELDS = ["id=pid", "body=text", f"title={NO_TITLE}"]
DISTRACTOR_INDEX = "xquad_distractors_index"
METRICS = ("MRR@10", "Recall@1", "Recall@5", "Recall@10")


# ---- our engine ---------------------------------------------------------------------------------

def our_run(engine, questions, transform=lambda s: s):
    """{qid: ranked ids}, plus counts of empty results and fallbacks and per-query milliseconds."""
    runs, empty, fallback, millis = {}, [], [], []
    for q in questions:
        request = SearchRequest.from_params({"q": transform(q["question"]), "limit": str(K)})
        started = time.perf_counter()
        result = engine.search(request, with_facets=False)
        millis.append((time.perf_counter() - started) * 1000)
        runs[q["qid"]] = [h.id for h in result.hits]
        if not result.hits:
            empty.append(q["qid"])
        if result.fallback:
            fallback.append(q["qid"])
    return runs, {"empty": len(empty), "fallback": len(fallback), "empty_qids": empty,
                  "fallback_qids": fallback}, millis


def build_index(parts, index_dir, workers):
    """Index each (path, field map) of `parts` into `index_dir`; returns the summaries."""
    summaries = []
    for path, fields in parts:
        summary = index_articles([path], index_dir, fields=FieldMap.parse(fields), workers=workers)
        if summary.problems:
            print(f"  {summary.skipped} records skipped in {path}, e.g. {summary.problems[0]}", file=sys.stderr)
        summaries.append(summary)
    return summaries


# ---- baseline -----------------------------------------------------------------------------------

def tokens(text, folded=False):
    text = text.lower()
    return TOKEN.findall(fold(text) if folded else text)


class Baseline:
    """Plain BM25 over lower-cased syllables (bm25s, k1=1.5, b=0.75)."""

    def __init__(self, ids, texts, folded=False):
        import bm25s

        self.ids = ids
        self.folded = folded
        self.bm25 = bm25s.BM25(k1=1.5, b=0.75)
        self.bm25.index([tokens(t, folded) for t in texts], show_progress=False)

    def run(self, questions):
        import numpy as np

        runs = {}
        for q in questions:
            scores = self.bm25.get_scores(tokens(q["question"], self.folded))
            top = np.argsort(-scores, kind="stable")[:K]
            runs[q["qid"]] = [self.ids[i] for i in top if scores[i] > 0]
        return runs


def article_text(record):
    """What the baseline indexes of a baomoi article: title, sapo and body."""
    return "\n".join(record.get(k) or "" for k in ("title", "sapo", "body"))


def article_texts(path):
    """(ids, texts) of the baomoi articles in `path` (JSON lines), as the baselines index them."""
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                ids.append(record["id"])
                texts.append(article_text(record))
    return ids, texts


# ---- reporting ----------------------------------------------------------------------------------

def table(rows):
    """rows: [(setting, ours, baseline)] -> printed lines."""
    lines = [f"{'setting':<13} {'metric':<10} {'ours':>7} {'BM25':>7} {'diff':>7}"]
    for setting, ours, base in rows:
        for m in METRICS:
            lines.append(f"{setting:<13} {m:<10} {ours[m]:7.3f} {base[m]:7.3f} {ours[m] - base[m]:+7.3f}")
    return "\n".join(lines)


def dump_failures(path, label, questions, runs, qrels, texts, relevant_text=None, top=3):
    """Questions whose relevant document is not first: question, expected text, our top 3."""
    relevant_text = relevant_text or texts
    count = 0
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n######## {label}\n")
        for q in questions:
            ranked = runs[q["qid"]]
            rel = qrels.get(q["qid"], set())
            if ranked[:1] and ranked[0] in rel:
                continue
            count += 1
            rank = next((i for i, d in enumerate(ranked, 1) if d in rel), None)
            f.write(f"\n[{q['qid']}] rank={rank or '>10'}  Q: {q['question']}\n")
            f.write(f"  answer: {' | '.join(q.get('answers') or [])}\n")
            for d in sorted(rel):
                f.write(f"  EXPECTED {d}: {relevant_text.get(d, '')[:300]}\n")
            if not ranked:
                f.write("  (no results)\n")
            for i, d in enumerate(ranked[:top], 1):
                f.write(f"  #{i} {d}: {texts.get(d, '')[:100]}\n")
    return count


# ---- cross-validation of the ranking's weights --------------------------------------------------

# The weights tuned, each with the values tried: its current value among them, 0 (the part left out)
# for the additive boosts. TITLE_WEIGHT is not tuned here: the sentences have no title (NO_TITLE).
TUNED = (
    (ranking, "FOLDED", (0, 0.25, 0.5, 0.75, 1.0)),
    (ranking, "FOLDED_LITERAL", (0, 0.1, 0.2, 0.3, 0.4)),
    (ranking, "WORD", (0, 0.3, 0.6, 0.9, 1.2)),
    (ranking, "PAIR", (0, 0.15, 0.3, 0.45, 0.6)),
    (ranking, "READING", (0, 0.25, 0.5, 0.75, 1.0)),
    (ranking, "READING_PAIR", (0, 0.3, 0.6, 0.9, 1.2)),
    (ranking, "COVERAGE", (0, 0.25, 0.5, 0.75, 1.0)),
    (ranking, "MIN_SHARE", (0, 0.1, 0.2, 0.3, 0.4)),
    (postings, "K1", (0.6, 0.9, 1.2, 1.5, 2.0)),
    (postings, "B", (0.3, 0.5, 0.75, 0.9, 1.0)),
)
SETTINGS = {"a": ("written", lambda s: s), "b": ("folded", fold)}
# These weigh only the syllables of a query typed without marks: (a)'s questions are not tuned on them.
BARE_ONLY = frozenset({"FOLDED_LITERAL", "READING", "READING_PAIR"})


def current_weights():
    return tuple(getattr(module, name) for module, name, _ in TUNED)


class WeightTrials:
    """A setting's reciprocal ranks (an array over `questions`) under a choice of weights, searched once per
    choice, through a fresh Engine (BM25's scores are cached per commit) with the weights set on the modules
    and put back afterwards."""

    def __init__(self, index_dir, questions, qrels):
        self.index_dir, self.questions, self.qrels = index_dir, questions, qrels
        self._found = {}

    def __call__(self, weights, setting):
        key = weights, setting
        if key not in self._found:
            saved = current_weights()
            self._set(weights)
            try:
                with Engine(self.index_dir, recent_results=0) as engine:
                    runs = our_run(engine, self.questions, SETTINGS[setting][1])[0]
                self._found[key] = self._reciprocal_ranks(runs)
            finally:
                self._set(saved)
        return self._found[key]

    @property
    def searched(self):
        return len(self._found)

    @staticmethod
    def _set(weights):
        for (module, name, _), value in zip(TUNED, weights):
            setattr(module, name, value)

    def _reciprocal_ranks(self, runs):
        import numpy as np

        return np.array([1 / r if (r := first_relevant_rank(runs[q["qid"]], self.qrels[q["qid"]], K)) else 0.0
                         for q in self.questions])


def tune(trials, setting, train, passes):
    """The weights a coordinate search chooses for `setting` on the questions `train` (a boolean array):
    each weight in turn set to the candidate with the best mean reciprocal rank, the others held;
    a change is kept only when it gains (ties keep the current value)."""
    weights = current_weights()
    best = trials(weights, setting)[train].mean()
    for _ in range(passes):
        for i, (_, name, candidates) in enumerate(TUNED):
            if setting == "a" and name in BARE_ONLY:
                continue
            for value in candidates:
                tried = weights[:i] + (value,) + weights[i + 1:]
                score = trials(tried, setting)[train].mean()
                if score > best + 1e-9:
                    weights, best = tried, score
    return weights


def folds_of(questions, k, seed):
    """Each question's fold (0..k-1): the paragraphs shuffled with `seed` and dealt round, so questions
    on one paragraph stay in one fold (they share its words)."""
    paragraphs = sorted({q["pid"] for q in questions})
    random.Random(seed).shuffle(paragraphs)
    fold_of = {pid: i % k for i, pid in enumerate(paragraphs)}
    return [fold_of[q["pid"]] for q in questions]


def cross_validate(index_dir, questions, qrels, k, seed, passes):
    """For each fold and setting, the weights tuned on the other folds and their MRR@10 on it."""
    import numpy as np

    questions = [q for q in questions if qrels.get(q["qid"])]
    trials = WeightTrials(index_dir, questions, qrels)
    fold = np.array(folds_of(questions, k, seed))
    current = {setting: trials(current_weights(), setting) for setting in SETTINGS}
    found = {"folds": k, "seed": seed, "passes": passes, "questions": len(questions),
             "weights": [name for _, name, _ in TUNED], "current": list(current_weights()), "settings": {}}
    for setting in SETTINGS:
        held_out = np.zeros(len(questions))
        per_fold = []
        for f in range(k):
            train, test = fold != f, fold == f
            chosen = tune(trials, setting, train, passes)
            held_out[test] = trials(chosen, setting)[test]
            per_fold.append({"weights": list(chosen), "questions": int(test.sum()),
                             "train_current": current[setting][train].mean(),
                             "train_tuned": trials(chosen, setting)[train].mean(),
                             "held_out_current": current[setting][test].mean(),
                             "held_out_tuned": held_out[test].mean()})
            print(f"  ({setting}) fold {f}: {_changes(chosen)}; held out {per_fold[-1]['held_out_current']:.3f} "
                  f"-> {per_fold[-1]['held_out_tuned']:.3f} ({trials.searched} weightings searched)", flush=True)
        found["settings"][setting] = {"label": SETTINGS[setting][0], "current": current[setting].mean(),
                                      "cross_validated": held_out.mean(), "folds": per_fold}
    return found


def _changes(weights):
    changed = [f"{name} {old:g}->{new:g}" for (_, name, _), old, new in zip(TUNED, current_weights(), weights)
               if new != old]
    return ", ".join(changed) or "the current weights"


def cross_validation_report(found, settings):
    """Printed lines: cross-validated MRR@10 beside the current weights' and BM25's, the weights chosen."""
    lines = [f"{found['folds']}-fold cross-validation (seed {found['seed']}, by paragraph) over "
             f"{found['questions']} questions, MRR@10:",
             f"{'setting':<13} {'current':>8} {'tuned, held out':>16} {'BM25':>7}"]
    for key, s in found["settings"].items():
        lines.append(f"({key}) {s['label']:<9} {s['current']:8.3f} {s['cross_validated']:16.3f} "
                     f"{settings[key]['baseline']['MRR@10']:7.3f}")
    lines.append("weights chosen by each fold (current first):")
    for i, name in enumerate(found["weights"]):
        for key, s in found["settings"].items():
            chosen = " ".join(f"{f['weights'][i]:g}" for f in s["folds"])
            lines.append(f"  {name:<15} ({key}) {found['current'][i]:<5g} | {chosen}")
    return "\n".join(lines)


# ---- main ---------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="the shared data folder (default ../shared/data)")
    ap.add_argument("--limit", type=int, help="evaluate only the first N questions")
    ap.add_argument("--skip-distractors", action="store_true", help="leave out (c), paragraphs among 35k articles")
    ap.add_argument("--cache", default=str(OUT), help="where (c)'s index is kept and reused (default benchmarks/out)")
    ap.add_argument("--workers", type=int, help="indexing processes (default: all cores)")
    ap.add_argument("--distractors-from", help="start (c)'s index from a copy of this index of the baomoi articles "
                                               "(e.g. benchmarks/out/bench_index): only the paragraphs are new")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("--results", action="store_true", help="write the figures into benchmarks/RESULTS.md")
    ap.add_argument("--failures", default=str(OUT / "xquad_failures.txt"),
                    help="per-question failure dump (default benchmarks/out/xquad_failures.txt; '' for none)")
    ap.add_argument("--folds", type=int, help="cross-validate the ranking's weights on (a) and (b) over this many "
                                              "folds of the questions (leaves out (c))")
    ap.add_argument("--seed", type=int, default=17, help="the seed the folds are dealt with (default 17)")
    ap.add_argument("--passes", type=int, default=1, help="rounds of the coordinate search over the weights")
    args = ap.parse_args(argv)

    xq = data_dir(args.data, "xquad_vi")
    questions = read_jsonl(xq / "queries.dev.jsonl", args.limit)
    sentences = read_jsonl(xq / "sentences.jsonl")
    qrels_s = read_qrels(xq / "qrels.dev.sentence.tsv")
    sentence_text = {s["sid"]: s["text"] for s in sentences}
    watch = Stopwatch()
    figures = {"questions": len(questions), "settings": {}, "seconds": watch.seconds}
    rows = []
    if args.failures:
        Path(args.failures).parent.mkdir(parents=True, exist_ok=True)
        Path(args.failures).write_text(f"XQuAD-vi failures (questions whose relevant document is not ranked first); "
                                       f"{len(questions)} questions\n", encoding="utf-8")
    print(f"{len(questions)} questions, {len(sentences)} sentences")

    with tempfile.TemporaryDirectory(prefix="xquad-index-") as tmp:
        with watch("index sentences"):
            build_index([(xq / "sentences.jsonl", SENTENCE_FIELDS)], tmp, args.workers)
        with Engine(tmp) as engine:
            engine.search(SearchRequest.from_params({"q": "khởi động", "limit": "10"}), with_facets=False)  # warm up
            with watch("search (a)"):
                runs_a, counts_a, millis = our_run(engine, questions)
            with watch("search (b)"):
                runs_b, counts_b, _ = our_run(engine, questions, fold)
        if args.folds:
            with watch("cross-validation"):
                figures["cross_validation"] = cross_validate(tmp, questions, qrels_s, args.folds, args.seed,
                                                             args.passes)
    with watch("baseline (a)+(b)"):
        ids = [s["sid"] for s in sentences]
        texts = [s["text"] for s in sentences]
        base_a = Baseline(ids, texts).run(questions)
        base_b = Baseline(ids, texts, folded=True).run(questions)  # folds documents and questions
    for key, label, ours, counts, base in (("a", "written", runs_a, counts_a, base_a),
                                           ("b", "folded", runs_b, counts_b, base_b)):
        o, b = ranking_metrics(ours, qrels_s), ranking_metrics(base, qrels_s)
        figures["settings"][key] = {"label": label, "ours": o, "baseline": b,
                                    "empty": counts["empty"], "fallback": counts["fallback"]}
        rows.append((f"({key}) {label}", o, b))
        if args.failures:
            dump_failures(args.failures, f"({key}) {label}: sentences", questions, ours, qrels_s, sentence_text)
    figures["latency_ms_a"] = {"p50": percentile(millis, 50), "p95": percentile(millis, 95), "max": max(millis)}

    if not (args.skip_distractors or args.folds):
        run_distractors(args, xq, questions, watch, figures, rows)

    print()
    print(table(rows))
    print()
    for key, s in figures["settings"].items():
        print(f"({key}) {s['label']}: {s['empty']} questions with no result, {s['fallback']} answered by the "
              f"any-word fallback (of {len(questions)})")
    lat = figures["latency_ms_a"]
    print(f"latency of our search for (a): p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, max {lat['max']:.1f} ms")
    if args.folds:
        print()
        print(cross_validation_report(figures["cross_validation"], figures["settings"]))
    print(f"time: {watch.report()}")
    if args.failures:
        print(f"failures written to {args.failures}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"figures written to {args.json}")
    if args.results and args.folds:
        write_cross_validation(figures["cross_validation"], figures["settings"], args.limit)
    elif args.results:
        write_results(figures, len(questions), args.limit)


GOALS = {"a": 0.85, "b": 0.82, "c": 0.85}  # MRR@10, from the issue


def write_results(figures, count, limit):
    """The section "Search quality" of benchmarks/RESULTS.md, beside the speed figures."""
    from benchmarks.bench_index import stamp, table as results_table, update_results, verdict

    rows = []
    for key, s in figures["settings"].items():
        ours, base = s["ours"], s["baseline"]
        rows.append((f"({key}) {s['label']}", f"{ours['MRR@10']:.3f}", f"{base['MRR@10']:.3f}",
                     f"{ours['MRR@10'] - base['MRR@10']:+.3f}", f"{ours['Recall@1']:.3f} / {ours['Recall@10']:.3f}",
                     f">= {GOALS[key]}", verdict(ours["MRR@10"] >= GOALS[key])))
    body = stamp() + (f"- command: `python -m benchmarks.eval_xquad --results`; {count} dev questions"
                      f"{' (first ' + str(limit) + ')' if limit else ''}; baseline: bm25s over lower-cased "
                      f"syllables, same run\n\n")
    body += results_table(rows, header=("setting", "MRR@10 ours", "MRR@10 BM25", "diff", "Recall@1 / @10 ours",
                                        "goal (MRR@10)", "result"))
    update_results("Search quality (eval_xquad.py)", body)
    print("updated benchmarks/RESULTS.md")


def write_cross_validation(found, settings, limit):
    """The section "Ranking weights, cross-validated" of benchmarks/RESULTS.md."""
    from benchmarks.bench_index import stamp, table as results_table, update_results

    body = stamp() + (f"- command: `python -m benchmarks.eval_xquad --folds {found['folds']} --seed {found['seed']} "
                      f"--passes {found['passes']} --results`; {found['questions']} dev questions"
                      f"{' (first ' + str(limit) + ')' if limit else ''}, in {found['folds']} folds by paragraph; "
                      f"each fold's weights tuned (coordinate search over `TUNED`) on the other folds\n\n")
    rows = [(f"({key}) {s['label']}", f"{s['current']:.3f}", f"{s['cross_validated']:.3f}",
             f"{s['cross_validated'] - s['current']:+.3f}", f"{settings[key]['baseline']['MRR@10']:.3f}")
            for key, s in found["settings"].items()]
    body += results_table(rows, header=("setting", "MRR@10, current weights (chosen by hand on all these questions)",
                                        "MRR@10, each fold tuned on the others", "diff", "MRR@10 BM25"))
    body += "\nEach held-out fold, MRR@10 with the current weights -> with the weights tuned on the other folds:\n\n"
    rows = [(f"{f + 1}", found["settings"]["a"]["folds"][f]["questions"],
             *(f"{s['folds'][f]['held_out_current']:.3f} -> {s['folds'][f]['held_out_tuned']:.3f} "
               f"(trained on: {s['folds'][f]['train_current']:.3f} -> {s['folds'][f]['train_tuned']:.3f})"
               for s in found["settings"].values())) for f in range(found["folds"])]
    body += results_table(rows, header=("fold", "questions", *(f"({key}) {s['label']}"
                                                                for key, s in found["settings"].items())))
    body += "\nThe weights each fold chose (tuned for (a), then for (b)):\n\n"
    rows = []
    for i, name in enumerate(found["weights"]):
        rows.append((f"`{name}`", f"{found['current'][i]:g}",
                     *(" ".join(f"{f['weights'][i]:g}" for f in s["folds"]) for s in found["settings"].values())))
    body += results_table(rows, header=("weight", "current", *(f"chosen for ({key}), folds 1-{found['folds']}"
                                                               for key in found["settings"])))
    update_results("Ranking weights, cross-validated (eval_xquad.py --folds)", body)
    print("updated benchmarks/RESULTS.md")


def run_distractors(args, xq, questions, watch, figures, rows):
    baomoi = data_dir(args.data, "baomoi2017") / "docs.jsonl"
    paragraphs = read_jsonl(xq / "paragraphs.jsonl")
    qrels_p = read_qrels(xq / "qrels.dev.paragraph.tsv")
    index_dir = Path(args.cache) / DISTRACTOR_INDEX
    marker = index_dir / "COMPLETE.json"
    if marker.exists():
        print(f"(c) reusing the index in {index_dir}")
    else:
        # An interrupted build is resumed: indexing is incremental (unchanged articles are skipped).
        if args.distractors_from and not index_dir.exists():
            shutil.copytree(args.distractors_from, index_dir)
            print(f"(c) starting from a copy of {args.distractors_from}")
        print(f"(c) indexing {len(paragraphs)} paragraphs and the baomoi articles into {index_dir} (minutes)...",
              flush=True)
        with watch("index distractors"):
            summaries = build_index([(xq / "paragraphs.jsonl", PARAGRAPH_FIELDS), (baomoi, [])], index_dir,
                                    args.workers)
        for s in summaries:
            print(f"  {s}")
        marker.write_text(json.dumps({"summaries": [str(s) for s in summaries]}), encoding="utf-8")
    with Engine(index_dir) as engine:
        engine.search(SearchRequest.from_params({"q": "khởi động", "limit": "10"}), with_facets=False)
        with watch("search (c)"):
            runs_c, counts_c, millis = our_run(engine, questions)
    with watch("baseline (c)"):
        article_ids, article_bodies = article_texts(baomoi)
        ids = [p["pid"] for p in paragraphs] + article_ids
        texts = [p["text"] for p in paragraphs] + article_bodies
        base_c = Baseline(ids, texts).run(questions)
        paragraph_text = dict(zip(ids, texts))
    o, b = ranking_metrics(runs_c, qrels_p), ranking_metrics(base_c, qrels_p)
    figures["settings"]["c"] = {"label": "distract", "ours": o, "baseline": b,
                                "empty": counts_c["empty"], "fallback": counts_c["fallback"]}
    figures["latency_ms_c"] = {"p50": percentile(millis, 50), "p95": percentile(millis, 95), "max": max(millis)}
    rows.append(("(c) distract", o, b))
    if args.failures:
        dump_failures(args.failures, "(c) paragraphs among baomoi articles", questions, runs_c, qrels_p,
                      paragraph_text)


if __name__ == "__main__":
    main()
