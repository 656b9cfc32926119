"""Indexing speed on the 35,432 baomoi2017 articles, against pyvi alone, measured in the same run.

Ours: the real `index.writer.index_articles` (title, sapo as lead, body; one
worker per core by default) into a fresh index: wall time, docs/s, peak memory
of the process tree (this process and its pyvi workers, polled with psutil),
index size on disk. Then the same call again over the unchanged input (every
article skipped by its content hash).

Baseline: pyvi alone, `ViTokenizer.tokenize(title)` and `ViTokenizer.tokenize(lead
+ "\\n\\n" + body)` in one process, on a fixed random sample scaled up to the
corpus (or on every article with --baseline-sample 0).

Also: identity on sampled articles, or every one with --identity all:
segmentation (`segmenter.words` rendered as pyvi prints it against
`ViTokenizer.tokenize`) and terms (the term numbers' arrays, which indexing
writes, against its string path); and with --profile N where the time goes
when indexing N articles in one process.

    python benchmarks/bench_index.py [--limit N] [--out DIR] [--workers N]
        [--baseline-sample N] [--identity N|all] [--profile N] [--no-results]

Goals (issue): ours <= 0.7 x pyvi alone; full corpus <= 120 s; re-run <= 10 s.
The helpers at the top (machine, process-tree memory, RESULTS.md sections) are
shared by bench_query.py and bench_http.py.
"""

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.common import DATA, OUT, ROOT  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BAOMOI = DATA / "baomoi2017" / "docs.jsonl"
DEFAULT_INDEX = OUT / "bench_index"

GOAL_RATIO = 0.7
GOAL_SECONDS = 120.0
GOAL_RERUN = 10.0


# ---- shared helpers: machine, memory, RESULTS.md ----------------------------------------------------

def machine():
    """nproc, CPU model and RAM of this machine, as one line."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "? GB"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            ram = f"{kb / 1024 ** 2:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores (nproc), {cpu}, {ram} RAM, Python {platform.python_version()}"


_COMMIT = None


def commit():
    """The short commit hash when first asked (the start of the run: others commit while a benchmark runs),
    with "+dirty" when tracked files differed from it."""
    global _COMMIT
    if _COMMIT is None:
        _COMMIT = _git_commit()
    return _COMMIT


def _git_commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def stamp():
    """The date / machine / commit lines that head every RESULTS.md section."""
    now = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (f"- date: {now}\n- machine: {machine()}\n- commit: `{commit()}` (at the start of the run)\n"
            f"- load average at the end: {load()} (other processes on the machine share the cores)\n")


def load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def update_results(name, body, path=RESULTS):
    """Replace (or append) the section `## name` of RESULTS.md with `body`."""
    title = "# Speed benchmarks\n\nEach section is rewritten by its script (`python benchmarks/<script>.py`).\n"
    text = path.read_text(encoding="utf-8") if path.exists() else title
    section = f"## {name}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def verdict(ok):
    return "pass" if ok else "**FAIL**"


def table(rows, header=("measure", "value", "goal", "result")):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class TreeMemory:
    """Peak memory of a process and all its descendants, polled in a thread.

    RSS summed over the tree counts pages shared by forked workers (the pyvi
    model, Python itself) once per process, so it overstates; PSS (Linux)
    shares them out and is what the tree really costs. Both peaks are kept.
    Polling takes CPU from what it measures (PSS reads a process's smaps, about
    10 ms; listing the tree about 3 ms): RSS is read every `interval`, the tree
    listed every `children_every` intervals, PSS every `pss_every`.
    """

    def __init__(self, pid=None, interval=0.1, pss_every=5, children_every=1):
        import psutil

        self.root = psutil.Process(pid or os.getpid())
        self.interval = interval
        self.pss_every = pss_every
        self.children_every = children_every
        self.peak_rss = self.peak_pss = self.peak_root_rss = 0
        self.peak_processes = 0
        self._procs = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, with_pss=False, list_tree=True):
        import psutil

        rss = pss = 0
        if list_tree or self._procs is None:
            self._procs = [self.root]
            try:
                self._procs += self.root.children(recursive=True)
            except psutil.Error:
                pass
        procs = self._procs
        for p in procs:
            try:
                if with_pss:
                    info = p.memory_full_info()
                    rss += info.rss
                    pss += getattr(info, "pss", info.rss)
                else:
                    rss += p.memory_info().rss
            except psutil.Error:
                continue
        try:
            root = self.root.memory_info().rss
        except psutil.Error:
            root = 0
        return rss, pss, root, len(procs)

    def _run(self):
        n = 0
        while not self._stop.is_set():
            with_pss = n % self.pss_every == 0
            rss, pss, root, count = self.sample(with_pss, list_tree=n % self.children_every == 0)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_root_rss = max(self.peak_root_rss, root)
            self.peak_processes = max(self.peak_processes, count)
            if with_pss:
                self.peak_pss = max(self.peak_pss, pss)
            n += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def mb(n):
    return f"{n / 2 ** 20:,.0f} MB"


def dir_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# ---- input ------------------------------------------------------------------------------------------

def input_file(docs, limit):
    """The JSON lines file to index: the corpus, or its first `limit` lines copied to benchmarks/out/."""
    if not limit:
        return docs
    OUT.mkdir(parents=True, exist_ok=True)
    part = OUT / f"bench_index_first{limit}.jsonl"
    with open(docs, encoding="utf-8") as src, open(part, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n >= limit:
                break
            dst.write(line)
    return part


def load_articles(path):
    """The Article objects exactly as the indexer reads them (NFC, stripped, sapo as lead)."""
    from index.sources import articles

    return [a for a in articles.read([path]) if isinstance(a, articles.Article)]


def fresh_dir(path):
    """Empty `path` for a fresh index; refuses to delete anything that is not an old index."""
    from index.store.directory import exists

    path = Path(path)
    if path.exists():
        if not (exists(path) or not any(path.iterdir())):
            sys.exit(f"{path} exists and is not an index: choose another --out")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ---- the measurements -----------------------------------------------------------------------------

def run_ours(path, index_dir, workers):
    from index.writer import index_articles

    with TreeMemory(pss_every=50, children_every=10) as memory:  # light polling: it shares the cores measured
        before = os.times()
        started = time.perf_counter()
        summary = index_articles([path], index_dir, workers=workers)
        seconds = time.perf_counter() - started
        after = os.times()
    main_cpu = after.user + after.system - before.user - before.system  # includes the memory poller (small)
    workers_cpu = (after.children_user + after.children_system - before.children_user - before.children_system)
    return summary, seconds, memory, (main_cpu, workers_cpu)


def run_baseline(articles_, sample, seed):
    """pyvi alone in this process: seconds for `sample` articles (all when sample is 0), and the count."""
    from index.analysis.segmenter import pyvi

    tokenizer = pyvi()
    chosen = articles_ if not sample or sample >= len(articles_) else random.Random(seed).sample(articles_, sample)
    started, cpu = time.perf_counter(), time.process_time()
    for a in chosen:
        if a.title:
            tokenizer.tokenize(a.title)
        text = a.text  # lead + "\n\n" + body, as indexed
        if text:
            tokenizer.tokenize(text)
    return time.perf_counter() - started, len(chosen), time.process_time() - cpu


def check_identity(articles_, n, seed):
    """(texts checked, segmentation mismatches, term mismatches, first few mismatching ids) for `n`
    articles (all when n is None).

    Segmentation: `segmenter.words` rendered as pyvi prints it, against pyvi's own `tokenize`.
    Terms: the term numbers' array path (what indexing writes), against its string path
    (`segmenter.words` and `analyzers.index_terms`, tested against the analyzers).
    """
    from index.analysis import segmenter, term_numbers
    from index.analysis.normalize import nfc

    tokenizer = segmenter.pyvi()
    lex = term_numbers.TermNumbers()
    chosen = articles_ if n is None or n >= len(articles_) else random.Random(seed + 1).sample(articles_, n)
    checked, bad, bad_terms, examples = 0, 0, 0, []
    for a in chosen:
        for t in (a.title, a.text):
            if not t:
                continue
            checked += 1
            segmented = segmenter.as_pyvi(t, segmenter.words(t)) == tokenizer.tokenize(segmenter.prepare(t))
            fast, strings = lex.terms(t), lex._from_strings(nfc(t))
            same_terms = all(np.array_equal(fast[g][0], strings[g][0]) and np.array_equal(fast[g][1], strings[g][1])
                             for g in fast)
            bad += not segmented
            bad_terms += not same_terms
            if not (segmented and same_terms) and len(examples) < 5:
                examples.append(a.id)
    return checked, bad, bad_terms, examples


def profile(articles_path, n, seed, with_cprofile=True):
    """Where indexing time goes, on `n` sampled articles in one process.

    Stages are timed directly in CPU seconds of this thread (no profiler overhead; other
    processes on the machine do not count): reading; pyvi's CRF labels
    (`index.analysis.crf`); the rest of segmenting and the terms of every granularity
    (`index.analysis.term_numbers`); locality; adding each article to a segment
    (`builder.SegmentBuilder.add`: stored fields, columns, postings appended);
    writing the segment (`finish`: postings grouped by term). A worker process
    runs all of these for its share of the articles. Then a cProfile run of
    `index_articles(workers=1)` for the top functions.
    """
    from whoosh import index as whoosh_index

    from index.analysis import segmenter, term_numbers
    from index.locality.extraction import extract_locality
    from index.store import builder
    from index.store.schema import make_schema
    from index.writer import ANALYSED_TOGETHER, Analysed, document, index_articles

    with open(articles_path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    chosen = random.Random(seed + 2).sample(lines, min(n, len(lines)))
    OUT.mkdir(parents=True, exist_ok=True)
    sample_path = OUT / f"bench_index_profile{len(chosen)}.jsonl"
    sample_path.write_text("".join(chosen), encoding="utf-8")
    segmenter.load()  # model loading is not indexing
    clock = time.thread_time  # CPU time of this thread: the machine's other load does not count
    t = {k: 0.0 for k in ("read", "crf", "terms", "locality", "add", "finish")}

    started = clock()
    sample = load_articles(sample_path)
    t["read"] = clock() - started

    crf_model = segmenter.model()
    tag_many = crf_model.tag_many

    def timed_tag_many(sequences):
        s0 = clock()
        found = tag_many(sequences)
        t["crf"] += clock() - s0
        return found

    crf_model.tag_many = timed_tag_many  # as the term numbers call it
    analysed = []
    try:
        for first in range(0, len(sample), ANALYSED_TOGETHER):  # as index.writer analyses them
            chunk = sample[first:first + ANALYSED_TOGETHER]
            s0 = clock()
            terms = term_numbers.term_numbers().terms_many([text for a in chunk for text in (a.title, a.text)])
            s1 = clock()
            localities = [extract_locality(a.title, a.lead, a.body, a.source) for a in chunk]
            t["locality"] += clock() - s1
            t["terms"] += s1 - s0
            analysed += [Analysed(a, terms[2 * i], terms[2 * i + 1], localities[i]) for i, a in enumerate(chunk)]
    finally:
        del crf_model.tag_many

    index_dir = fresh_dir(OUT / "bench_index_profile")
    ix = whoosh_index.create_in(str(index_dir), make_schema())
    segment = builder.SegmentBuilder(ix)
    gc.disable()  # as builder.build does
    for item in analysed:
        s0 = clock()
        segment.add(document(item), builder.article_terms(item))
        t["add"] += clock() - s0
    started = clock()
    segment.finish()
    t["finish"] = clock() - started
    gc.enable()

    stages = [
        ("reading (JSON, NFC, content hash)", t["read"]),
        ("CRF labels (index.analysis.crf: features' scores, Viterbi)", t["crf"]),
        ("segmenting and terms besides the CRF (index.analysis.term_numbers)", t["terms"] - t["crf"]),
        ("locality extraction", t["locality"]),
        ("segment: add (document fields, stored, columns, postings)", t["add"]),
        ("segment: finish (group postings, write the segment)", t["finish"]),
    ]
    total = sum(s for name, s in stages)

    if not with_cprofile:
        return len(sample), total, stages, ""
    index_dir = fresh_dir(OUT / "bench_index_profile")
    profiler = cProfile.Profile()
    profiler.enable()
    index_articles([sample_path], index_dir, workers=1)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return len(sample), total, stages, out.getvalue()


# ---- main -----------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", default=str(BAOMOI), help="baomoi2017 docs.jsonl")
    p.add_argument("--out", default=str(DEFAULT_INDEX), help="index directory (emptied first)")
    p.add_argument("--limit", type=int, help="only the first N articles (quick checks)")
    p.add_argument("--workers", type=int, help="index_articles workers (default: one per core)")
    p.add_argument("--baseline-sample", type=int, default=5000,
                   help="pyvi alone on this many sampled articles, scaled up (0: every article)")
    p.add_argument("--identity", default="2000", help="articles to check segmentation identity on, or 'all'")
    p.add_argument("--profile", type=int, default=0, help="also profile indexing N sampled articles (one process)")
    p.add_argument("--no-cprofile", action="store_true", help="with --profile: skip the cProfile listing")
    p.add_argument("--profile-only", action="store_true", help="only the --profile breakdown (default N 2000)")
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    docs = Path(args.docs)
    if not docs.is_file():
        sys.exit(f"no corpus at {docs}: pass --docs PATH (baomoi2017/docs.jsonl)")
    path = input_file(docs, args.limit)
    workers = args.workers or os.cpu_count() or 1
    print(f"machine: {machine()}\ncommit: {commit()}\ninput: {path}\nload average: {load()}", flush=True)
    if args.profile_only:
        return report_profile(path, args.profile or 2000, args, argv)

    started = time.perf_counter()
    articles_ = load_articles(path)
    read_seconds = time.perf_counter() - started
    n = len(articles_)
    print(f"read {n:,} articles in {read_seconds:.1f} s (JSON, NFC, one process)", flush=True)

    # baseline first: pyvi alone in one process
    from index.analysis.segmenter import pyvi

    pyvi()
    base_seconds, base_n, base_cpu = run_baseline(articles_, args.baseline_sample, args.seed)
    scaled = base_n < n
    base_full = base_seconds * n / base_n if base_n else 0.0
    base_cpu_full = base_cpu * n / base_n if base_n else 0.0
    note = f" ({base_n:,} sampled articles, scaled x{n / base_n:.2f})" if scaled else ""
    print(f"baseline pyvi alone: {base_seconds:.1f} s{note} -> {base_full:.1f} s for {n:,} articles "
          f"({n / base_full:,.0f} docs/s); CPU {base_cpu_full:.1f} s", flush=True)

    # ours: a fresh index
    index_dir = fresh_dir(args.out)
    summary, seconds, memory, (main_cpu, workers_cpu) = run_ours(path, index_dir, workers)
    size = dir_size(index_dir)
    ratio = seconds / base_full if base_full else float("nan")
    print(f"ours: {summary}", flush=True)
    print(f"ours: {seconds:.1f} s wall, {n / seconds:,.0f} docs/s, workers={workers}; "
          f"peak RSS of the process tree {mb(memory.peak_rss)} (PSS {mb(memory.peak_pss)}, "
          f"main process {mb(memory.peak_root_rss)}, {memory.peak_processes} processes); "
          f"index {mb(size)} on disk", flush=True)
    print(f"ours CPU: main process {main_cpu:.1f} s (reading, commits), workers {workers_cpu:.1f} s "
          f"(pyvi, locality, analysis, writing segments); pyvi alone CPU {base_cpu_full:.1f} s")
    print(f"ratio ours / pyvi alone: {ratio:.2f} (goal <= {GOAL_RATIO}) {verdict(ratio <= GOAL_RATIO)}")
    cores = min(workers, os.cpu_count() or 1)
    cpu_ratio = (main_cpu + workers_cpu) / cores / base_cpu_full if base_cpu_full else float("nan")
    print(f"ratio in CPU seconds, ours (main + workers, spread over {cores} cores) / pyvi alone: {cpu_ratio:.2f} "
          "(the best wall ratio an idle machine would give; robust to the machine's other load)")
    full = not args.limit
    projected = seconds * 35432 / n
    print(f"time goal: {seconds:.1f} s (goal <= {GOAL_SECONDS:.0f} s for the full corpus"
          + ("" if full else f"; projected {projected:.0f} s") + f") {verdict(projected <= GOAL_SECONDS)}",
          flush=True)

    # re-run over unchanged input
    started = time.perf_counter()
    again = index_articles_again(path, index_dir, workers)
    rerun = time.perf_counter() - started
    print(f"re-run (unchanged input): {again}; {rerun:.1f} s wall (goal <= {GOAL_RERUN:.0f} s) "
          f"{verdict(rerun <= GOAL_RERUN)}", flush=True)

    # identity
    want = None if args.identity == "all" else int(args.identity)
    started = time.perf_counter()
    checked, bad, bad_terms, examples = check_identity(articles_, want, args.seed)
    print(f"identity: {bad} segmentation and {bad_terms} term mismatches in {checked:,} texts "
          f"({'all' if want is None else f'{min(want, n):,}'} articles, {time.perf_counter() - started:.0f} s)"
          + (f"; e.g. {', '.join(examples)}" if examples else ""), flush=True)

    if not args.no_results:
        rows = [
            ("articles", f"{n:,}" + ("" if full else f" (--limit {args.limit})"), "35,432", ""),
            ("wall time, fresh index", f"{seconds:.1f} s ({n / seconds:,.0f} docs/s, {workers} workers)",
             f"<= {GOAL_SECONDS:.0f} s" + ("" if full else f" (projected {projected:.0f} s)"),
             verdict(projected <= GOAL_SECONDS)),
            ("baseline: pyvi alone, 1 process", f"{base_full:.1f} s ({n / base_full:,.0f} docs/s)"
             + (f", {base_n:,} sampled x{n / base_n:.2f}" if scaled else ""), "", ""),
            ("ours / pyvi alone (wall)", f"{ratio:.2f}", f"<= {GOAL_RATIO}", verdict(ratio <= GOAL_RATIO)),
            ("CPU seconds: ours main / ours workers / pyvi alone",
             f"{main_cpu:.0f} / {workers_cpu:.0f} / {base_cpu_full:.0f}", "", ""),
            (f"ours / pyvi alone (CPU: main + workers over {cores} cores, / pyvi alone; an idle machine's best)",
             f"{cpu_ratio:.2f}", f"<= {GOAL_RATIO}", verdict(cpu_ratio <= GOAL_RATIO)),
            ("re-run, unchanged input", f"{rerun:.1f} s", f"<= {GOAL_RERUN:.0f} s", verdict(rerun <= GOAL_RERUN)),
            ("peak memory, process tree", f"RSS {mb(memory.peak_rss)} (PSS {mb(memory.peak_pss)}; "
             f"main {mb(memory.peak_root_rss)})", "", ""),
            ("index size on disk", mb(size), "", ""),
            ("segmentation identity (ours / pyvi's tokenize)", f"{bad} mismatches / {checked:,} texts"
             + (" (every article)" if want is None else ""), "0", verdict(bad == 0)),
            ("terms identity (term number arrays / strings)", f"{bad_terms} mismatches / {checked:,} texts", "0",
             verdict(bad_terms == 0)),
        ]
        body = stamp() + f"- command: `python benchmarks/bench_index.py {' '.join(argv or sys.argv[1:])}`\n\n"
        body += table(rows)
        update_results("Indexing (bench_index.py)", body)
        print(f"updated {RESULTS}")
    if args.profile:
        report_profile(path, args.profile, args, argv)
    return 0


def report_profile(path, n, args, argv):
    count, total, stages, top = profile(path, n, args.seed, not args.no_cprofile)
    print(f"\nwhere the time goes: {count:,} sampled articles, one process, {total:.1f} CPU s "
          f"({count / total:,.1f} docs/s)")
    for name, secs in stages:
        print(f"  {name:<52} {secs:6.1f} s  {100 * secs / total:5.1f} %")
    if top:
        print("cProfile of index_articles(workers=1) on the same sample, by own time:")
        print(top, flush=True)
    if not args.no_results:
        body = stamp() + f"- command: `python benchmarks/bench_index.py {' '.join(argv or sys.argv[1:])}`\n\n"
        body += (f"{count:,} sampled articles, each stage timed one after the other in one process (CPU "
                 f"seconds, no profiler), {total:.1f} s in all ({count / total:,.1f} docs/s on one core):\n\n")
        body += table([(name, f"{secs:.1f} s", f"{100 * secs / total:.0f} %") for name, secs in stages],
                      header=("stage", "seconds", "share"))
        update_results("Indexing: where the time goes (bench_index.py --profile-only)", body)
        print(f"updated {RESULTS}")
    return 0


def index_articles_again(path, index_dir, workers):
    from index.writer import index_articles

    return index_articles([path], index_dir, workers=workers)


if __name__ == "__main__":
    sys.exit(main())
