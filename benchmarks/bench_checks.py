"""What the posting files' page checksums cost a term lookup: the same lookups with and without the
checks, in the same run, on an index built by bench_index.py (or any index).

Each term of a sample (every field, drawn by a seed from each field's vocabulary, weighted towards
common terms as queries are) is looked up through `PostingFile.readings` twice per round, once by a
file whose reads check their pages (as searches do) and once by the same file with the checks
skipped (a plain `os.pread`); the order alternates per round. Also times opening the index
(`open_index`: the Whoosh files' CRC-32s and the posting files' footers) against Whoosh's own open.

    python benchmarks/bench_checks.py [--index DIR] [--terms N] [--rounds N] [--no-results]
"""

import argparse
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import DEFAULT_INDEX, load, machine, stamp, table, update_results  # noqa: E402
from benchmarks.common import percentile  # noqa: E402
from index.analysis.normalize import fold  # noqa: E402
from index.store.schema import FOLDED  # noqa: E402

SEED = 19


def unchecked(posting_file):
    """`posting_file` reading its pages without checking them (its shared open file's pread replaced)."""
    for field in posting_file._fields.values():
        file = field._file
        file.pread = lambda size, offset, fd=file.fd: os.pread(fd, size, offset)
    return posting_file


def sample_terms(posting_file, n, seed):
    """(field, term) pairs: half drawn uniformly, half by document frequency (common terms, as in queries)."""
    rng = random.Random(seed)
    pairs = []
    fields = sorted(name for name in set(posting_file._fields) | set(FOLDED) if posting_file.has_field(name))
    for field in fields:
        source = FOLDED.get(field)  # a folded field is read in its source field and keeps no counts: its source's
        frequencies = Counter()
        for term, count in posting_file.frequencies(source or field).items():
            frequencies[fold(term) if source else term] += count
        terms = sorted(frequencies)
        share = max(1, n // len(fields))
        pairs += [(field, t) for t in rng.sample(terms, min(share // 2, len(terms)))]
        pairs += [(field, t) for t in rng.choices(terms, weights=[frequencies[t] for t in terms], k=share - share // 2)]
    rng.shuffle(pairs)
    return pairs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", default=str(DEFAULT_INDEX))
    p.add_argument("--terms", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)

    from whoosh import index as whoosh_index

    from index.store.directory import open_index
    from index.store.postingfile import PAGE, PostingFile

    print(f"machine: {machine()}\nindex: {args.index}\nload average: {load()}", flush=True)
    opened = {"whoosh open_dir": [], "open_index (checks)": []}
    for _ in range(args.rounds):
        for name, fn in (("whoosh open_dir", whoosh_index.open_dir), ("open_index (checks)", open_index)):
            started = time.perf_counter()
            ix = fn(str(args.index))
            opened[name].append((time.perf_counter() - started) * 1000)
    with ix.reader() as reader:
        path = PostingFile.merged(reader)
        if path is None:
            raise SystemExit("the index has no merged posting file: index it in one run")
        path = path._fields[next(iter(path._fields))]._file.path
    checked, plain = PostingFile(path), unchecked(PostingFile(path))
    pairs = sample_terms(checked, args.terms, SEED)
    from index.store.postingfile import term_key

    keys = [term_key(term) for _, term in pairs]
    for (field, term), key in zip(pairs, keys):  # the file's pages into the kernel's cache for both
        plain.readings(field, term, key)
    times = {"checked, first read": [], "checked, read again": [], "unchecked": []}
    postings = 0
    for r in range(args.rounds):
        order = ((True, checked), (False, plain)) if r % 2 == 0 else ((False, plain), (True, checked))
        for checks, posting_file in order:
            name = ("checked, first read" if r == 0 else "checked, read again") if checks else "unchecked"
            for (field, term), key in zip(pairs, keys):
                started = time.perf_counter()
                found = posting_file.readings(field, term, key)
                times[name].append((time.perf_counter() - started) * 1e6)
                if r == 0 and checks:
                    postings += sum(len(docs) for _, docs, _ in found)
    size = os.path.getsize(path)
    print(f"{len(pairs)} lookups x {args.rounds} rounds of {Path(path).name} ({size / 2**20:.0f} MB, "
          f"{postings / len(pairs):.0f} postings per term on average)")
    rows = []
    for name, values in times.items():
        rows.append((f"lookup, {name} (us)", f"{percentile(values, 50):.1f}", f"{percentile(values, 95):.1f}",
                     f"{sum(values) / len(values):.1f}"))
        print(f"{name:>10}: p50 {rows[-1][1]} us  p95 {rows[-1][2]} us  mean {rows[-1][3]} us")
    for name, values in opened.items():
        rows.append((name + " (ms)", f"{percentile(values, 50):.1f}", f"{percentile(values, 95):.1f}",
                     f"{sum(values) / len(values):.1f}"))
        print(f"{name:>20}: p50 {rows[-1][1]} ms  mean {rows[-1][3]} ms")
    mean = {name: sum(values) / len(values) for name, values in times.items()}
    first, again = (mean[name] - mean["unchecked"] for name in ("checked, first read", "checked, read again"))
    said = (f"The page checks add {first:.1f} us to a lookup whose pages are read for the first time since the "
            f"file was opened, {again:.1f} us once they have been checked ({PAGE}-byte pages).")
    print(said)
    if not args.no_results:
        update_results("Posting file checksums (bench_checks.py)", stamp() + (
            f"- command: `python benchmarks/bench_checks.py --index {args.index}`; {len(pairs)} term lookups x "
            f"{args.rounds} rounds in {Path(path).name} ({size / 2**20:.0f} MB), checked and unchecked alternating\n\n"
            + table(rows, header=("measure", "p50", "p95", "mean")) + f"\n{said}\n"))


if __name__ == "__main__":
    main()
