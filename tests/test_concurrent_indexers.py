"""Two `vnsearch index` processes on the same index at once (issue 19, High 1): no article is written
twice, the run that takes the lock later has the last word, and each run reports what it did."""

import fcntl
import re
import subprocess
import sys
import time

from whoosh import index as whoosh_index

from index.store.stored import StoredFields
from index.writer import index_articles
from tests.conftest import write_jsonl

TIMEOUT = 300


def records(ids, version):
    return [{"id": f"r{i}", "title": f"Nông dân thu hoạch lúa số {i}",
             "body": f"Bài số {i} về mùa vụ, {version}."} for i in ids]


def start(index_dir, path):
    return subprocess.Popen([sys.executable, "-m", "webui.cli", "--index-dir", str(index_dir), "index",
                             "--workers", "1", "--lock-timeout", str(TIMEOUT), str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def summary(process):
    """(exit status, indexed, updated, unchanged) from the run's last line."""
    err = process.communicate(timeout=TIMEOUT)[1]
    counts = re.search(r"(\d+) indexed, (\d+) updated, (\d+) unchanged, 0 skipped", err)
    assert counts, err
    return (process.returncode, *map(int, counts.groups()))


def wait_for_lock(index_dir, process):
    """Return once `process` holds the index's writer lock (Whoosh's flock on MAIN_WRITELOCK)."""
    deadline = time.monotonic() + TIMEOUT
    with open(index_dir / "MAIN_WRITELOCK", "a") as lock:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            fcntl.flock(lock, fcntl.LOCK_UN)
            time.sleep(0.02)
    raise AssertionError("the first indexer never took the lock")


def articles_held(index_dir):
    """{id: [body of each copy]} of what the index's last commit holds."""
    held = {}
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        for fields in StoredFields(reader).live(reader):
            held.setdefault(fields["id"], []).append(fields["body"])
    return held


def base_index(tmp_path, n=300):
    index_dir = tmp_path / "ix"
    index_articles([write_jsonl(tmp_path / "base.jsonl", records(range(n), "bản gốc"))], index_dir, workers=1)
    return index_dir


def test_two_indexers_adding_the_same_articles_together_write_each_once(tmp_path):
    index_dir = base_index(tmp_path)
    new = write_jsonl(tmp_path / "new.jsonl", records(range(300, 500), "bản mới"))
    first, second = start(index_dir, new), start(index_dir, new)
    results = sorted([summary(first), summary(second)])
    assert results == [(0, 0, 0, 200), (0, 200, 0, 0)]  # one added them; the other found them there
    held = articles_held(index_dir)
    assert len(held) == 500 and all(len(copies) == 1 for copies in held.values())


def test_of_two_indexers_updating_the_same_articles_the_later_wins(tmp_path):
    index_dir = base_index(tmp_path, 3000)
    by_a = write_jsonl(tmp_path / "a.jsonl", records(range(2000), "bản A"))  # long enough to hold the lock a while
    by_b = write_jsonl(tmp_path / "b.jsonl", records(range(2000), "bản gốc"))  # puts back what `a` changes
    a = start(index_dir, by_a)
    wait_for_lock(index_dir, a)
    b = start(index_dir, by_b)  # started while `a` writes: it waits for the lock, then updates after `a`
    assert summary(a) == (0, 0, 2000, 0)
    assert summary(b) == (0, 0, 2000, 0)  # it finds `a`'s text, not what it had before `a` ran
    held = articles_held(index_dir)
    assert len(held) == 3000 and all(len(copies) == 1 for copies in held.values())
    assert all(held[f"r{i}"][0] == f"Bài số {i} về mùa vụ, bản gốc." for i in range(3000))
