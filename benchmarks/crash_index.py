"""Kill `vnsearch index` with SIGKILL at random moments and check that the index always holds a committed state.

    python benchmarks/crash_index.py [--records 12000] [--trials 20] [--seed 7] [--max-delay 15] [--data FILE]

Records are synthetic (short, Vietnamese-looking) unless `--data` names a JSON lines file (its first
`--records` records are used, e.g. ../shared/data/baomoi2017/docs.jsonl). The indexer commits every
`index.writer.BATCH` (5000) articles, so 12,000 records give several commits. One index is used through all
trials; each trial starts `python -m webui.cli index` and kills it (and its segmentation workers) after a
seeded random delay:

- while the index is incomplete, the run resumes it: after the kill the index must open, a search must
  answer, and it must hold exactly the first K records, K one of the committed states (the previous count,
  plus whole batches, or everything); never a partial batch;
- once complete, trials alternate between an update in place (every third record changed) and a
  `--rebuild`: after the kill all records are there, each one either in its old or in its new version
  (update), or the index is exactly the old one or exactly the new one (rebuild).

A final normal run must complete the index. Prints one line per trial and a summary; exits 1 on any failure.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.sources.articles import Article, read  # noqa: E402
from index.store.directory import known_hashes, open_index  # noqa: E402
from index.writer import BATCH  # noqa: E402

SYLLABLES = ("nhà nước đảng viên hội đồng nhân dân tỉnh thành phố kinh tế phát triển nông dân lúa gạo biển đảo "
             "giáo dục y tế giao thông thời tiết bóng đá văn hóa du lịch công an xã huyện quận").split()


def synthetic(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        yield {"id": f"c{i:06d}", "title": " ".join(rng.choices(SYLLABLES, k=4)),
               "body": "chung " + " ".join(rng.choices(SYLLABLES, k=8)) + "."}


def from_data(path, n):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if n <= 0:
                return
            record = json.loads(line)
            if record.get("id") and (record.get("title") or record.get("sapo") or record.get("body")):
                record["body"] = "chung " + (record.get("body") or "")
                n -= 1
                yield record


def write(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def hashes_of(path):
    return {a.id: a.content_hash for a in read([path]) if isinstance(a, Article)}


def raw_state(index_dir):
    """(doc count, {id: hash}) as Whoosh reads the index, without the search engine."""
    ix = open_index(index_dir)
    return ix.doc_count(), known_hashes(ix)


def state(index_dir):
    """(doc count, {id: hash}) of what the index holds now, after opening it and running a search."""
    from search.engine import Engine
    from search.request import SearchRequest

    count, held = raw_state(index_dir)
    try:
        with Engine(index_dir) as engine:
            total = engine.search(SearchRequest(q="chung")).total
    except Exception as e:
        raise AssertionError(f"the index ({count} docs) opens but a search fails: {type(e).__name__}: {e}") from None
    if total != count:
        raise AssertionError(f"a search for a word in every record finds {total}, the index holds {count}")
    if len(held) != count:
        raise AssertionError(f"{count} documents but {len(held)} distinct ids")
    return count, held


def run_indexer(paths, index_dir, rebuild, workers, delay):
    """Start the indexer; SIGKILL it after `delay` seconds. Returns (killed, seconds, returncode)."""
    command = [sys.executable, "-m", "webui.cli", "index", *map(str, paths), "--index-dir", str(index_dir),
               "--workers", str(workers), "--lock-timeout", "10"] + (["--rebuild"] if rebuild else [])
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        killed = True
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its segmentation workers, in the group we started
        except ProcessLookupError:
            pass
        stderr = proc.communicate()[1].decode("utf-8", "replace")
    if not killed and proc.returncode != 0:
        raise AssertionError(f"indexer exited {proc.returncode}: {stderr[-500:]}")
    return killed, time.monotonic() - started, proc.returncode


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=12_000)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--min-delay", type=float, default=0.5)
    p.add_argument("--max-delay", type=float, default=15.0, help="seconds; a kill comes at a random moment up to this")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--data", help="JSON lines records to use instead of synthetic ones")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args(argv)

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="crash-index-"))
    index_dir = work / "ix"
    records = list(from_data(args.data, args.records) if args.data else synthetic(args.records, args.seed))
    n = len(records)
    original = write(work / "records.jsonl", records)
    changed_records = [dict(r, body=r["body"] + " đã sửa") if i % 3 == 0 else r for i, r in enumerate(records)]
    changed = write(work / "changed.jsonl", changed_records)
    old_hashes, new_hashes = hashes_of(original), hashes_of(changed)
    order = [r["id"] for r in records]
    print(f"{n} records, BATCH={BATCH}, {args.trials} trials, seed {args.seed}, work folder {work}", flush=True)

    failures = []
    count, held = 0, {}
    flip = 0
    started = time.monotonic()
    for trial in range(1, args.trials + 1):
        delay = rng.uniform(args.min_delay, args.max_delay)
        if count < n:
            mode, source, rebuild = "resume", original, False
        else:
            flip += 1
            mode = "update" if flip % 2 else "rebuild"
            if mode == "update":  # towards the version the index does not hold yet
                source = changed if held == old_hashes else original
                rebuild = False
            else:
                source = original if held == new_hashes else changed
                rebuild = True
        try:
            killed, seconds, _ = run_indexer([source], index_dir, rebuild, args.workers, delay)
            if not index_dir.exists() or not (list(index_dir.glob("*.toc"))):
                if count:
                    raise AssertionError("the index is gone")
                new_count, new_held = 0, {}
            else:
                new_count, new_held = state(index_dir)
            if mode == "resume":
                allowed = set(range(count, n, BATCH)) | {n}  # the previous commit, whole batches more, or all
                if new_count not in allowed:
                    raise AssertionError(f"{new_count} documents: not a committed state (from {count}: {sorted(allowed)})")
                if set(new_held) != set(order[:new_count]):
                    raise AssertionError("the documents held are not the first ones read")
                if any(old_hashes[i] != h for i, h in new_held.items()):
                    raise AssertionError("a document is not the one read")
            elif mode == "update":
                if new_count != n:
                    raise AssertionError(f"{new_count} documents after a killed update of {n}")
                if any(h not in (old_hashes[i], new_hashes[i]) for i, h in new_held.items()):
                    raise AssertionError("a document is neither its old nor its new version")
            else:
                target = hashes_of(source)
                if new_held != held and new_held != target:
                    mixed = sum(target[i] == h for i, h in new_held.items())
                    raise AssertionError(f"a killed rebuild left a mix: {new_count} documents, {mixed} new")
            if not killed and new_count != n:
                raise AssertionError(f"a completed run left {new_count} of {n}")
            verdict = "ok"
            count, held = new_count, new_held
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next trial runs
            verdict = f"FAIL: {e}"
            failures.append((trial, str(e)))
            try:
                count, held = raw_state(index_dir)
            except Exception as again:  # noqa: BLE001
                print(f"  the index cannot be read any more: {again}", flush=True)
                break
        print(f"trial {trial:2d} {mode:7s} kill after {delay:5.1f} s: {'killed' if killed else 'finished'} "
              f"-> {count:6d} docs  {verdict}", flush=True)

    # a final normal run completes the index
    try:
        killed, seconds, code = run_indexer([original], index_dir, False, args.workers, 3600)
        count, held = state(index_dir)
        complete = count == n and held == old_hashes
        print(f"final run: {seconds:.1f} s, exit {code}, {count} docs, {'complete' if complete else 'INCOMPLETE'}")
        if not complete:
            failures.append(("final", f"{count} of {n} documents, or not the last version"))
    except Exception as e:  # noqa: BLE001
        failures.append(("final", str(e)))
        print(f"final run: FAIL: {e}")

    print(f"\nsummary: {args.trials} trials, {len(failures)} failures, {time.monotonic() - started:.0f} s")
    for trial, message in failures:
        print(f"  trial {trial}: {message}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
