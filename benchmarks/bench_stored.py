"""Stored fields (issue 18): bytes per article and the cost of reading a results page's, before (Whoosh's
`_stored.col`: each article pickled and zlib-compressed on its own) and after (`index.store.stored`:
blocks of articles against a preset dictionary), in the same run on the same articles.

  index      the first N baomoi articles (default 35,432) indexed by `index_articles` into
             benchmarks/out/stored_N (kept: a rerun reads it again; --fresh makes it anew)
  bytes      after: the index's stored-fields files (and Whoosh's now empty stored column); before: the
             same articles' stored fields written by Whoosh's own stored-column writer, as it wrote them
  codecs     the same articles cut into blocks of 16, 32 and 64 KB and compressed by zlib without and
             with the dictionary, lzma and bz2: bytes per article, CPU to write and to read one block
  writing    CPU per article to write the stored fields, before and after, interleaved (best of 3)
  pages      CPU (this thread's) to read the stored fields of a page of 10 random hits and of 10
             neighbouring hits: before, after with the commit's cache of blocks, after without one;
             the three interleaved page by page
  indexing   with --baseline-tree DIR (a checkout of the version before, e.g. `git worktree add DIR main`):
             `index_articles` of the first --index-articles articles by that version and by this one,
             alternately --index-runs times, wall time and CPU of the process tree

    python benchmarks/bench_stored.py [--articles N] [--pages N] [--fresh]
        [--baseline-tree DIR] [--index-articles N] [--index-runs N] [--no-results]
"""

import argparse
import bz2
import lzma
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import BAOMOI, fresh_dir, input_file, load, stamp, table, update_results  # noqa: E402
from benchmarks.common import OUT  # noqa: E402

PAGE = 10
BLOCK_SIZES = (16 * 1024, 32 * 1024, 64 * 1024)
LZMA = [{"id": lzma.FILTER_LZMA2, "preset": 6}]


def build(docs, index_dir, fresh):
    """The index of `docs` in `index_dir`, made unless it is there already."""
    from index.store.directory import IndexUnavailable, open_index
    from index.writer import index_articles

    if not fresh:
        try:
            open_index(index_dir)
            return 0.0
        except IndexUnavailable:
            pass
    fresh_dir(index_dir)
    started = time.perf_counter()
    index_articles([docs], index_dir)
    return time.perf_counter() - started


def stored_records(ix):
    """Every article's stored fields, in article-number order, as the index holds them."""
    from index.store.stored import StoredFields

    with ix.reader() as reader:
        return list(StoredFields(reader).live(reader))


def whoosh_column(records, path):
    """Write `records` as Whoosh's stored column (what `_stored.col` held); (bytes, CPU seconds)."""
    from whoosh.codec.whoosh3 import STORED_COLUMN
    from whoosh.filedb.structfile import StructFile

    started = time.thread_time()
    with open(path, "wb") as f:
        writer = STORED_COLUMN.writer(StructFile(f))
        for docnum, fields in enumerate(records):
            writer.add(docnum, fields)
        writer.finish(len(records))
    return os.path.getsize(path), time.thread_time() - started


def stored_file(records, path):
    """Write `records` as one segment's stored-fields file; (bytes, CPU seconds)."""
    from index.store.stored import StoredWriter

    started = time.thread_time()
    writer = StoredWriter()
    for fields in records:
        writer.add(fields)
    with open(path, "wb") as f:
        writer.write(f)
    return os.path.getsize(path), time.thread_time() - started


def codecs(records, rng):
    """Rows (block size, codec, bytes per article, µs of CPU to compress an article, ms of CPU to read one
    block) for the same records."""
    from index.store import stored

    pickled = [pickle.dumps(r, protocol=5) for r in records]
    dictionary = stored._dictionary(pickled[:stored.SAMPLE])

    def with_dictionary(level):
        def compress(data):
            compressor = zlib.compressobj(level, zdict=dictionary)
            return compressor.compress(data) + compressor.flush()
        return compress

    def from_dictionary(data):
        decompressor = zlib.decompressobj(zdict=dictionary)
        return decompressor.decompress(data) + decompressor.flush()

    kinds = {
        f"zlib {stored.LEVEL}": (lambda d: zlib.compress(d, stored.LEVEL), zlib.decompress),
        f"zlib {stored.LEVEL} + dictionary (ours at {stored.BLOCK // 1024} KB)": (with_dictionary(stored.LEVEL),
                                                                               from_dictionary),
        "zlib 9 + dictionary": (with_dictionary(9), from_dictionary),
        "lzma (preset 6)": (lambda d: lzma.compress(d, format=lzma.FORMAT_RAW, filters=LZMA),
                            lambda d: lzma.decompress(d, format=lzma.FORMAT_RAW, filters=LZMA)),
        "bz2 9": (lambda d: bz2.compress(d, 9), bz2.decompress),
    }
    rows = []
    for size in BLOCK_SIZES:
        blocks, block, filled = [], [], 0
        for record in pickled:
            block.append(record)
            filled += len(record)
            if filled >= size:
                blocks.append(b"".join(block))
                block, filled = [], 0
        if block:
            blocks.append(b"".join(block))
        for name, (compress, decompress) in kinds.items():
            started = time.thread_time()
            compressed = [compress(b) for b in blocks]
            write_us = (time.thread_time() - started) / len(records) * 1e6
            sample = rng.sample(compressed, min(150, len(compressed)))
            started = time.thread_time()
            for data in sample:
                decompress(data)
            read_ms = (time.thread_time() - started) / len(sample) * 1000
            rows.append((f"{size // 1024} KB", name, sum(map(len, compressed)) / len(records), write_us, read_ms))
    return rows


def pages(ix, records, column_path, count, rng):
    """{(page kind, reader): [CPU ms per page]}: before, after (cached), after (no cache), interleaved."""
    from whoosh.codec.whoosh3 import STORED_COLUMN
    from whoosh.filedb.structfile import StructFile

    from index.store.stored import StoredFields

    n = len(records)
    times = {}
    with open(column_path, "rb") as f, ix.reader() as reader:
        before = STORED_COLUMN.reader(StructFile(f), 0, os.path.getsize(column_path), n)
        readers = {"before (Whoosh, an article at a time)": before.__getitem__,
                   "after, with the commit's cache of blocks": StoredFields(reader).fields,
                   "after, without a cache": StoredFields(reader, cached=0).fields}
        for kind in ("10 random hits", "10 neighbouring hits"):
            for _ in range(count):
                if kind.startswith("10 random"):
                    hits = rng.sample(range(n), PAGE)
                else:
                    start = rng.randrange(n - PAGE)
                    hits = list(range(start, start + PAGE))
                order = list(readers.items())
                rng.shuffle(order)  # none always first, or always after another warmed the page cache
                for name, read in order:
                    started = time.thread_time()
                    found = [read(h) for h in hits]
                    times.setdefault((kind, name), []).append((time.thread_time() - started) * 1000)
                    assert found == [records[h] for h in hits], name
    return times


_INDEX_RUN = """
import sys, time
from index.writer import index_articles
import index
assert index.__file__.startswith(sys.argv[3]), index.__file__
index_articles([sys.argv[1]], sys.argv[2])
"""


def index_runs(docs, trees, runs):
    """{tree label: [(wall s, CPU s of the process tree)]}: `index_articles` by each tree, alternately."""
    found = {}
    for run in range(runs):
        for label, tree in (trees if run % 2 == 0 else trees[::-1]):
            with tempfile.TemporaryDirectory(dir=OUT) as folder:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", _INDEX_RUN, str(docs), str(Path(folder) / "ix"), str(tree)],
                               cwd=tree, check=True)
                wall = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                found.setdefault(label, []).append((wall, cpu))
                print(f"  indexing by {label}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=35_432)
    parser.add_argument("--pages", type=int, default=300, help="pages of each kind")
    parser.add_argument("--fresh", action="store_true", help="index anew even when the index is there")
    parser.add_argument("--baseline-tree", type=Path, help="a checkout of the version before, for indexing speed")
    parser.add_argument("--index-articles", type=int, default=10_000)
    parser.add_argument("--index-runs", type=int, default=2, help="runs of each version, alternately")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    from whoosh import index as whoosh_index

    from index.store import stored

    rng = random.Random(args.seed)
    docs = input_file(BAOMOI, args.articles)
    index_dir = OUT / f"stored_{args.articles}"
    seconds = build(docs, index_dir, args.fresh)
    if seconds:
        print(f"indexed {args.articles:,} articles in {seconds:.1f} s")
    ix = whoosh_index.open_dir(str(index_dir))
    records = stored_records(ix)
    n = len(records)
    jsonl = os.path.getsize(docs)
    files = os.listdir(index_dir)
    ours = sum(os.path.getsize(index_dir / f) for f in files if f.endswith(stored.EXTENSION))
    empty_column = sum(os.path.getsize(index_dir / f) for f in files if f.endswith("._stored.col"))
    segments = sum(1 for f in files if f.endswith(stored.EXTENSION))

    writing = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        column_path, file_path = Path(folder) / "before._stored.col", Path(folder) / "after.vns"
        for run in range(3):
            for name in (("before", "after") if run % 2 == 0 else ("after", "before")):
                size, cpu = (whoosh_column if name == "before" else stored_file)(
                    records, column_path if name == "before" else file_path)
                writing[name].append((size, cpu))
        before_bytes = writing["before"][0][0]
        one_file = writing["after"][0][0]
        page_times = pages(ix, records, column_path, args.pages, rng)
    codec_rows = codecs(records, rng)
    indexing = None
    if args.baseline_tree:
        from benchmarks.bench_index import ROOT

        part = input_file(BAOMOI, args.index_articles)
        print(f"indexing {args.index_articles:,} articles, {args.index_runs} runs of each version, alternately")
        indexing = index_runs(part, [("before", args.baseline_tree.resolve()), ("after", ROOT)], args.index_runs)

    size_rows = [
        ("JSON lines indexed", f"{jsonl / n:,.0f} B", f"{jsonl / 2 ** 20:,.1f} MB", ""),
        ("before: Whoosh's stored column (each article pickled and compressed alone)", f"{before_bytes / n:,.0f} B",
         f"{before_bytes / 2 ** 20:,.1f} MB", f"{before_bytes / jsonl:.1%}"),
        (f"after: stored-fields files ({segments} segments, blocks of {stored.BLOCK // 1024} KB, zlib {stored.LEVEL} + "
         f"dictionary)", f"{ours / n:,.0f} B", f"{ours / 2 ** 20:,.1f} MB", f"{ours / jsonl:.1%}"),
        ("after: Whoosh's stored column, now empty", f"{empty_column / n:,.1f} B",
         f"{empty_column / 2 ** 20:,.2f} MB", f"{empty_column / jsonl:.2%}"),
        ("after, the same articles as one segment", f"{one_file / n:,.0f} B", f"{one_file / 2 ** 20:,.1f} MB",
         f"{one_file / jsonl:.1%}"),
    ]
    write_rows = [(name, f"{min(c for _, c in runs) / n * 1e6:,.0f} µs") for name, runs in writing.items()]
    page_rows = [(kind, name, f"{np.mean(t):.2f}", f"{np.percentile(t, 50):.2f}", f"{np.percentile(t, 95):.2f}")
                 for (kind, name), t in page_times.items()]
    out = [f"{n:,} baomoi articles (the first {args.articles:,}), {args.pages} pages of each kind; load {load()}\n",
           "Bytes of stored fields\n", table(size_rows, ("what", "per article", "total", "of the JSON lines")),
           "\nCPU to write the stored fields (best of 3, interleaved)\n",
           table(write_rows, ("", "per article")),
           "\nCPU to read the stored fields of a results page (ms, this thread's CPU time; interleaved page by page)\n",
           table(page_rows, ("page", "read by", "mean", "p50", "p95")),
           "\nThe same articles in other blocks and codecs (CPU: compression and decompression only)\n",
           table([(s, c, f"{b:,.0f} B", f"{us:.0f} µs", f"{ms:.2f} ms") for s, c, b, us, ms in codec_rows],
                 ("block", "codec", "per article", "to write an article", "to read one block"))]
    if indexing:
        rows = [(label, ", ".join(f"{w:.1f}" for w, _ in runs), ", ".join(f"{c:.1f}" for _, c in runs),
                 f"{np.mean([c for _, c in runs]):.1f}") for label, runs in indexing.items()]
        out += [f"\nIndexing {args.index_articles:,} articles (`index_articles`, two pyvi workers), "
                "the two versions alternately\n",
                table(rows, ("version", "wall s, each run", "CPU s of the process tree, each run", "CPU s, mean"))]
    text = "\n".join(out)
    print(text)
    if not args.no_results:
        update_results("Stored fields (bench_stored.py, issue 18)", stamp() + "\n" + text)


if __name__ == "__main__":
    main()
