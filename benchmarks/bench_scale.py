"""The scale curve (issue 18): index size, indexing time and memory, query latency and the time to a first
answer at 10k, 35k and 100k+ baomoi articles, beside tantivy (PyPI) on the same text in the same run.

Past the corpus's 35,432 articles it is replicated with distinct ids (`-r2`, `-r3`: the same text
again), up to 104,586 (three times over). Each size is measured in processes of its own, one after
the other, so that memory and a first answer are what a fresh process costs:

  indexing   `index_articles` (one pyvi worker per core) into a fresh index: wall time, peak memory
             summed over the process tree (RSS and PSS, psutil); tantivy 0.27: a schema of `title`
             and `body` (sapo + body) text fields, stored, and a raw `id`; one commit
  size       the folder on disk against the JSON lines indexed; ours broken down by kind of file
             (per-segment and merged posting files, by text field; stored fields; columns; ...)
  first      a fresh process with pyvi loaded: `Engine(dir)` and its first search (facets, snippets)
             while the read-ahead runs, and when the read-ahead is done
  queries    400 queries made from the first 10,000 articles' titles (100 titles, 100 two-word
             queries, each also without marks), after the engine's read-ahead and a warm-up of 20
             (as bench_query.py measures): `Engine.search` with facets and snippets, and tantivy's
             OR of the query's words over title and body, top 10 (stored titles read) and a count;
             each engine in PASSES fresh processes a size, in rounds of every size; latency is
             each query's median over them (p50, p95), beside every pass's p95 and the median one

    python benchmarks/bench_scale.py [--sizes 10000,35000,104586] [--reuse] [--passes 5] [--no-results]

`--reuse` keeps the indexes (and their indexing figures) already built in benchmarks/out/scale/.
Timings are taken on a shared machine: the load average is printed and written with them.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import BAOMOI, TreeMemory, fresh_dir, load, mb, stamp, table, update_results, \
    verdict  # noqa: E402
from benchmarks.bench_query import XQUAD, make_queries, summary  # noqa: E402
from benchmarks.common import OUT  # noqa: E402

SIZES = (10_000, 35_432, 104_586)  # the first 10,000 articles, the corpus, three times the corpus
WORK = OUT / "scale"
QUERY_SOURCE = 10_000  # queries are made from these first articles, held by every size
WARMUP = 20
# Query processes per engine and size: one pass's p95 varied by 10-20 % on this shared machine, and a burst of
# load in two passes of three at one size moved the ratio of the median passes from 1.46 to 1.64.
PASSES = 5
ENGINES = ("ours", "tantivy")
SEED = 2017
MILLION = 1_000_000


# ---- input ------------------------------------------------------------------------------------------

def corpus(size, docs=BAOMOI):
    """The first `size` articles of `docs`, replicated with distinct ids (`-r2`, ...) past its end."""
    path = WORK / f"docs_{size}.jsonl"
    if path.exists():
        return path
    lines = [line for line in open(docs, encoding="utf-8") if line.strip()]
    WORK.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".tmp", "w", encoding="utf-8") as out:
        for n in range(size):
            line = lines[n % len(lines)]
            copy = n // len(lines) + 1
            if copy > 1:
                record = json.loads(line)
                record["id"] = f"{record['id']}-r{copy}"
                line = json.dumps(record, ensure_ascii=False) + "\n"
            out.write(line)
    os.replace(str(path) + ".tmp", path)
    return path


def query_set(docs=BAOMOI):
    """The 400 queries: 100 titles and 100 two-word queries of the first articles, each also without marks."""
    path = WORK / "queries.json"
    if not path.exists():
        source = corpus(QUERY_SOURCE, docs)
        queries = make_queries(source, XQUAD, SEED, questions=0, titles=100, singles=0, pairs=100, folded_share=1.0)
        path.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    return [tuple(q) for q in json.loads(path.read_text(encoding="utf-8"))]


# ---- child processes: one measurement each ---------------------------------------------------------------

def _child(*args):
    return [sys.executable, str(Path(__file__).resolve()), "--child", *map(str, args)]


def measured_run(command):
    """(seconds, TreeMemory, the last line of stdout as JSON) of a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    with TreeMemory(pid=child.pid, pss_every=50, children_every=10) as memory:  # light polling: 2 shared cores
        out, _ = child.communicate()
    seconds = time.perf_counter() - started
    if child.returncode:
        sys.exit(f"{' '.join(command)} failed ({child.returncode})")
    lines = [line for line in out.splitlines() if line.strip()]
    return seconds, memory, json.loads(lines[-1]) if lines else {}


def build_ours(docs, index_dir):
    from index.writer import index_articles

    summary = index_articles([docs], index_dir)
    return {"indexed": summary.indexed}


def build_tantivy(docs, index_dir):
    import tantivy

    schema = _tantivy_schema()
    index = tantivy.Index(schema, path=str(index_dir))
    writer = index.writer(heap_size=256 * 2 ** 20, num_threads=os.cpu_count() or 1)
    count = 0
    with open(docs, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                body = "\n\n".join(p for p in (a.get("sapo"), a.get("body")) if p)
                writer.add_document(tantivy.Document(id=a["id"], title=a.get("title") or "", body=body))
                count += 1
    writer.commit()
    writer.wait_merging_threads()
    return {"indexed": count}


def _tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True)
    builder.add_text_field("body", stored=True)
    return builder.build()


def _latencies(search, queries):
    """Wall and thread CPU ms of each query after a warm-up of WARMUP, in the given order."""
    for q in queries[:WARMUP]:
        search(q)
    wall, cpu = [], []
    for q in queries:
        c0, t0 = time.thread_time(), time.perf_counter()
        search(q)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return {"wall": summary(wall), "cpu": summary(cpu), "wall_ms": wall, "cpu_ms": cpu}


def query_ours(index_dir, queries):
    """A fresh process: the first answer after opening the index, then latency after the read-ahead."""
    from index.analysis import segmenter
    from search.engine import Engine
    from search.request import SearchRequest

    queries = [q for _, q in json.loads(Path(queries).read_text(encoding="utf-8"))]
    segmenter.load()  # a server loads pyvi before it opens the index
    started = time.perf_counter()
    engine = Engine(index_dir, recent_results=0)
    opened = time.perf_counter()
    first = engine.search(SearchRequest.from_params({"q": queries[0]}))
    answered = time.perf_counter()
    engine.warm()
    warmed = time.perf_counter()
    requests = [SearchRequest.from_params({"q": q}) for q in queries]
    latency = _latencies(engine.search, requests)
    engine.close()
    return {"open_ms": (opened - started) * 1000, "first_ms": (answered - opened) * 1000,
            "first_total": first.total, "warm_s": warmed - started, **latency}


def query_tantivy(index_dir, queries):
    import tantivy

    queries = [q for _, q in json.loads(Path(queries).read_text(encoding="utf-8"))]
    started = time.perf_counter()
    index = tantivy.Index.open(str(index_dir))
    searcher = index.searcher()
    opened = time.perf_counter()

    def search(q):
        words = re.sub(r"[^\w]+", " ", q).lower().strip()  # the words, ORed: no query syntax
        query = index.parse_query(words or "_", ["title", "body"])
        found = searcher.search(query, 10)
        return found.count, [searcher.doc(address)["title"] for _, address in found.hits]

    search(queries[0])
    answered = time.perf_counter()
    return {"open_ms": (opened - started) * 1000, "first_ms": (answered - opened) * 1000, "warm_s": 0.0,
            **_latencies(search, queries)}


CHILDREN = {"build_ours": build_ours, "build_tantivy": build_tantivy, "query_ours": query_ours,
            "query_tantivy": query_tantivy}


# ---- where the bytes go ----------------------------------------------------------------------------------

KINDS = (  # file name ending: kind of file, the first that matches
    (".all.vnp", "postings, merged (.all.vnp)"),
    (".vnp", "postings, per segment (.vnp)"),
    (".vns", "stored fields (.vns)"),
    ("._stored.col", "Whoosh's stored column (_stored.col, empty since .vns)"),
    ("_len.col", "field lengths (_*_len.col)"),
    (".col", "columns: id, hash, facets, dates (.col)"),
    (".trm", "Whoosh terms and postings: ids (.trm/.pst)"),
    (".pst", "Whoosh terms and postings: ids (.trm/.pst)"),
)


def kind_of(name):
    return next((kind for ending, kind in KINDS if name.endswith(ending)), "other (.toc, lock)")


ARRAYS = {"hashes": "term dictionary: hashes, fence, entries, where names end", "fence": None, "entries": None,
          "ends": None, "names": "term names (UTF-8)", "postings": "postings (blocks of gaps and frequencies)"}


def _posting_arrays(path):
    """[(field, array name, bytes)] of a posting file, from its header (`index.store.postingfile`'s layout:
    the JSON header last, before the checksums; each array [offset, dtype, length])."""
    import numpy as np

    from index.store.postingfile import MAGIC, PostingFile

    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            return []
    header = PostingFile(path)
    return [(field, key, np.dtype(value[1]).itemsize * value[2])
            for field, described in header._fields.items() for key, value in described._arrays.items()]


def breakdown(index_dir):
    """({kind of file: bytes}, {text field: bytes}, {kind of posting file, array: bytes}) of an index of ours."""
    kinds, fields, arrays = {}, {}, {}
    for path in sorted(Path(index_dir).iterdir()):
        if not path.is_file():
            continue
        kind = kind_of(path.name)
        kinds[kind] = kinds.get(kind, 0) + path.stat().st_size
        if path.name.endswith(".vnp"):
            for field, key, size in _posting_arrays(path):
                fields[field] = fields.get(field, 0) + size
                array = f"{kind}: {ARRAYS[key] or ARRAYS['hashes']}"
                arrays[array] = arrays.get(array, 0) + size
    return kinds, fields, arrays


def folder_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def read_through(path):
    """Read every file of the folder `path` once, so that the queries find them in the page cache whatever
    the sizes measured before evicted (the first pass of a size took up to 20 % longer than the next)."""
    for f in Path(path).rglob("*"):
        if f.is_file():
            with open(f, "rb") as opened:
                while opened.read(1 << 24):
                    pass


# ---- one size --------------------------------------------------------------------------------------

def over_passes(passes):
    """The figures of `passes` of the same queries: latency as each query's median over the passes (a burst of
    the shared machine's load slows the queries of one pass, seldom one query in two of three), the pass of
    median p95 (its latency, first answer and read-ahead kept together) and every pass's p95."""
    chosen = sorted(passes, key=lambda p: p["wall"]["p95"])[len(passes) // 2]
    typical = {kind: summary([statistics.median(times) for times in zip(*(p[f"{kind}_ms"] for p in passes))])
               for kind in ("wall", "cpu")}
    return {**{k: v for k, v in chosen.items() if k not in ("wall_ms", "cpu_ms")}, **typical,
            "median_pass": {"wall": chosen["wall"], "cpu": chosen["cpu"]},
            "pass_p95s": [p["wall"]["p95"] for p in passes]}


def build(size, reuse, docs_source):
    """The row of one size: both engines' indexes built (or reused, with the figures of their building)."""
    docs = corpus(size, docs_source)
    row = {"size": size, "jsonl": docs.stat().st_size}
    for engine in ENGINES:
        index_dir = WORK / f"{engine}_{size}"
        figures = WORK / f"{engine}_{size}.build.json"
        if reuse and figures.exists() and index_dir.exists():
            built = json.loads(figures.read_text())
            built["reused"] = True
        else:
            if engine == "ours":
                fresh_dir(index_dir)
            elif index_dir.exists():
                shutil.rmtree(index_dir)
            index_dir.mkdir(parents=True, exist_ok=True)
            print(f"  {size:,}: indexing with {engine}...", flush=True)
            seconds, memory, out = measured_run(_child(f"build_{engine}", docs, index_dir))
            built = {"seconds": seconds, "peak_rss": memory.peak_rss, "peak_pss": memory.peak_pss,
                     "processes": memory.peak_processes, "indexed": out.get("indexed"), "load": load()}
            figures.write_text(json.dumps(built))
        built["bytes"] = folder_size(index_dir)
        row[engine] = built
    row["kinds"], row["fields"], row["arrays"] = breakdown(WORK / f"ours_{size}")
    files = [p.name for p in (WORK / f"ours_{size}").iterdir()]
    row["segments"] = sum(1 for f in files if f.endswith(".sums"))  # one a segment
    row["merged"] = any(f.endswith(".all.vnp") for f in files)
    return row


def query(rows, queries_path, passes=PASSES):
    """Each engine's query processes at every size, a round of all the sizes after another (a drift of the
    shared machine's speed then touches every size alike; sizes one after the other, the p95 ratio of the
    same code ranged over 1.37-1.65×), each folder read through before its pass."""
    found = {(row["size"], engine): [] for row in rows for engine in ENGINES}
    for round_ in range(passes):
        for row in rows:
            for engine in ENGINES:
                print(f"  pass {round_ + 1}/{passes}: {row['size']:,} {engine}...", flush=True)
                index_dir = WORK / f"{engine}_{row['size']}"
                read_through(index_dir)
                found[row["size"], engine].append(measured_run(_child(f"query_{engine}", index_dir, queries_path))[2])
    for row in rows:
        for engine in ENGINES:
            queried = over_passes(found[row["size"], engine])
            row[engine].update(queried)
            print(f"  {row['size']:,} {engine}: {mb(row[engine]['bytes'])}, indexed in {row[engine]['seconds']:.0f} s, "
                  f"peak {mb(row[engine]['peak_rss'])} RSS; first answer "
                  f"{queried['open_ms'] + queried['first_ms']:.0f} ms; each query's median over the passes: p50 "
                  f"{queried['wall']['p50']:.1f} p95 {queried['wall']['p95']:.1f} ms (each pass's p95: "
                  f"{', '.join(f'{p:.1f}' for p in queried['pass_p95s'])})",
                  flush=True)


# ---- the report -----------------------------------------------------------------------------------------

def curve_table(rows):
    out = []
    for r in rows:
        for engine in ENGINES:
            e = r[engine]
            out.append((
                f"{r['size']:,}", engine if engine == "tantivy" else
                f"ours ({r['segments']} segments{', merged' if r['merged'] else ', **not merged**'})",
                f"{e['bytes'] / 2 ** 20:,.0f} MB ({e['bytes'] / r['jsonl']:.2f}×)",
                f"{e['seconds']:.0f} s" + (" (reused)" if e.get("reused") else ""),
                f"{e['peak_rss'] / 2 ** 20:,.0f} / {e['peak_pss'] / 2 ** 20:,.0f} MB",
                f"{e['wall']['p50']:.1f} / {e['wall']['p95']:.1f}", " · ".join(f"{p:.1f}" for p in e["pass_p95s"]),
                f"{e['median_pass']['wall']['p95']:.1f}",
                f"{e['cpu']['p50']:.1f} / {e['cpu']['p95']:.1f}",
                f"{e['open_ms']:.0f} + {e['first_ms']:.0f} ms", f"{e['warm_s']:.1f} s" if engine == "ours" else "",
            ))
    return table(out, header=("articles", "engine", "index on disk (× JSONL)", "indexing",
                              "peak memory, tree RSS / PSS", "query p50 / p95 ms (each query's median over the passes)",
                              "p95 of each pass", "p95 of the median pass", "CPU p50 / p95 ms",
                              "first answer: open + query", "read-ahead done"))


def breakdown_table(rows):
    kinds = sorted({k for r in rows for k in r["kinds"]}, key=lambda k: -rows[-1]["kinds"].get(k, 0))
    header = ("kind of file",) + tuple(f"{r['size']:,}" for r in rows) + ("per article (largest)",)
    out = []
    for kind in kinds:
        cells = [f"{r['kinds'].get(kind, 0) / 2 ** 20:,.1f} MB ({r['kinds'].get(kind, 0) / r['ours']['bytes']:.0%})"
                 for r in rows]
        out.append((kind, *cells, f"{rows[-1]['kinds'].get(kind, 0) / rows[-1]['size'] / 1024:,.1f} KB"))
    for group, label in (("arrays", "posting files: {}"), ("fields", "posting files: field `{}`")):
        for key in sorted(rows[-1][group], key=lambda k: -rows[-1][group][k]):
            cells = [f"{r[group].get(key, 0) / 2 ** 20:,.1f} MB ({r[group].get(key, 0) / r['ours']['bytes']:.0%})"
                     for r in rows]
            out.append((label.format(key), *cells, f"{rows[-1][group][key] / rows[-1]['size'] / 1024:,.1f} KB"))
    return table(out, header=header)


def goals(rows):
    """(measure, value, goal, result) of issue 18's goals at the largest size, against the smallest."""
    first, last = rows[0]["ours"], rows[-1]["ours"]
    size = last["bytes"] / rows[-1]["jsonl"]
    out = [(f"index on disk at {rows[-1]['size']:,}", f"{size:.2f}× the JSON lines", "<= 1.0×", verdict(size <= 1.0)),
           ("indexing peak memory, tree RSS", mb(last["peak_rss"]), "<= 1.5 GB",
            verdict(last["peak_rss"] <= 1.5 * 2 ** 30)),
           ("query p95 with facets and snippets", f"{last['wall']['p95']:.1f} ms", "<= 50 ms",
            verdict(last["wall"]["p95"] <= 50))]
    if len(rows) > 1:
        ratio = last["wall"]["p95"] / first["wall"]["p95"]
        passes = last["median_pass"]["wall"]["p95"] / first["median_pass"]["wall"]["p95"]
        out.append((f"query p95, {rows[-1]['size']:,} against {rows[0]['size']:,}",
                    f"{ratio:.2f}× (CPU p95 {last['cpu']['p95'] / first['cpu']['p95']:.2f}×; the median passes' "
                    f"p95 {passes:.2f}×)", "<= 1.5×", verdict(ratio <= 1.5)))
    return out


def million(rows):
    """A million articles on paper: each kind of file per article at the largest size, times a million."""
    last = rows[-1]
    scale = MILLION / last["size"]
    jsonl = last["jsonl"] * scale
    lines = [f"- raw JSON lines: {jsonl / 2 ** 30:.1f} GB (baomoi's articles, {last['jsonl'] / last['size']:,.0f} "
             f"bytes each)"]
    total = 0
    for kind, size in sorted(last["kinds"].items(), key=lambda kv: -kv[1]):
        total += size * scale
        lines.append(f"- {kind}: {size * scale / 2 ** 30:.1f} GB")
    lines.append(f"- ours in all: **{total / 2 ** 30:.1f} GB = {total / jsonl:.1f}× the JSON lines**; tantivy "
                 f"(linear from {last['size']:,}): {last['tantivy']['bytes'] * scale / 2 ** 30:.1f} GB")
    segment = last["kinds"].get("postings, per segment (.vnp)", 0) * scale
    if segment:
        lines.append(f"- without the per-segment posting files kept beside the merged one: "
                     f"{(total - segment) / 2 ** 30:.1f} GB")
    peak = last["ours"]["peak_rss"]
    if len(rows) > 1:  # the workers' fixed cost aside, the growth from the smallest size on
        slope = (peak - rows[0]["ours"]["peak_rss"]) / (last["size"] - rows[0]["size"])
        at_million = peak + slope * (MILLION - last["size"])
        lines.append(f"- indexing memory: {peak / 2 ** 30:.1f} GB tree RSS at {last['size']:,}, growing "
                     f"{slope * 1000 / 2 ** 20:.0f} MB per 1,000 articles: about {at_million / 2 ** 30:.0f} GB at a "
                     f"million")
    return "\n".join(lines) + "\n"


def report(rows, argv):
    built = ", ".join(f"{r['size']:,} at {r['ours'].get('load', '?')}" for r in rows)
    body = stamp() + (f"- run: `python benchmarks/bench_scale.py {' '.join(argv)}`; queries: 400 "
                      f"(100 titles and 100 two-word queries of the first {QUERY_SOURCE:,} articles, each also "
                      f"without marks), warm-up {WARMUP}; {len(rows[0]['ours']['pass_p95s'])} "
                      f"query processes per engine and size in rounds of every size: latency as each query's "
                      f"median over them, beside each pass's p95 and the pass of median p95\n"
                      f"- sizes past 35,432 are baomoi again with ids `-r2`, `-r3`; indexing figures marked "
                      f"(reused) are from the run that built the index; load average when ours was built: {built}\n"
                      f"- first answer: a fresh process with pyvi loaded opens the index and searches the "
                      f"first query while the read-ahead runs (the index's files in the page cache: each "
                      f"engine's folder read through before each of its passes)\n\n")
    body += curve_table(rows)
    body += "\nThe issue's goals at the largest size:\n\n" + table(goals(rows))
    body += "\nWhere our bytes go (share of the index):\n\n" + breakdown_table(rows)
    body += f"\nA million articles on paper (from {rows[-1]['size']:,}):\n\n" + million(rows)
    return body


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(CHILDREN[argv[1]](*argv[2:])), flush=True)
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated numbers of articles "
                   "(default: %(default)s)")
    p.add_argument("--docs", default=str(BAOMOI))
    p.add_argument("--reuse", action="store_true", help="keep indexes already built (and their figures)")
    p.add_argument("--passes", type=int, default=PASSES, help="query processes per engine and size; latency is "
                   "each query's median over them (default: %(default)s)")
    p.add_argument("--no-results", action="store_true", help="do not update benchmarks/RESULTS.md")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"load average: {load()}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    query_set(Path(args.docs))
    rows = [build(size, args.reuse, Path(args.docs)) for size in sizes]
    query(rows, WORK / "queries.json", args.passes)
    body = report(rows, argv)
    print("\n" + body)
    (WORK / "figures.json").write_text(json.dumps(rows, indent=1))
    if not args.no_results:
        update_results("Scale (bench_scale.py)", body)
        print("updated benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
