"""Writing articles into the index: incremental, on both cores, and safe to interrupt.

- Each article carries a content hash; an unchanged article is skipped before
  any analysis, a changed one is replaced in place.
- Each batch of changed articles is split between worker processes (fork, so
  pyvi's model is loaded once), and each worker segments its share and writes
  it as a new Whoosh segment of its own (`index.store.builder`): both cores analyse
  and write. This process holds the index lock meanwhile, deletes replaced
  articles and commits the new segments.
- Work is committed in batches: a crash loses at most the batch under way and
  leaves the last commit readable (segments that no commit lists are deleted
  by the next one); the next run completes it. `--rebuild` commits once, at
  the end, so the old index stays whole until then.
"""

import gc
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from index.analysis import segmenter, term_numbers
from index.sources import articles
from index.sources.dates import VIETNAM
from index.store import compaction
from index.store.directory import Committer, IndexUnavailable, build_segment, open_for_writing
from index.store.schema import NO_VALUE, TEXT_FIELDS, TITLE_FIELDS

BATCH = 5000  # articles read per batch, and written per commit
PARALLEL_FROM = 64  # fewer changed articles than this are analysed in this process
ANALYSED_TOGETHER = 128  # articles segmented at once (crf.Model.tag_many runs their steps together)


@dataclass
class Summary:
    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # records whose id an earlier record of the same run had: the later one is kept
    problems: list = field(default_factory=list)
    notices: list = field(default_factory=list)  # said about records that were indexed all the same
    seconds: float = 0.0
    compacted: int = 0  # replaced articles whose old copies the run's compaction dropped

    @property
    def skipped(self):
        return len(self.problems)

    def __str__(self):
        done = self.indexed + self.updated + self.unchanged + self.duplicates
        rate = done / self.seconds if self.seconds else 0
        again = f", {self.duplicates} ids given again (the later record kept)" if self.duplicates else ""
        compacted = (f"; compacted: the old copies of {self.compacted:,} replaced articles dropped"
                     if self.compacted else "")
        return (f"{self.indexed} indexed, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.skipped} skipped{again} in {self.seconds:.1f} s ({rate:,.0f} docs/s){compacted}")


@dataclass
class Analysed:
    """An article with what indexing it needs from pyvi and the locality extractor."""

    article: articles.Article
    title_terms: dict  # `index.analysis.term_numbers.TermNumbers.terms` of the title
    text_terms: dict
    locality: object


def find_locality(article):
    """The article's locality: as its record gives it, else extracted from its text."""
    from index.locality.extraction import extract_locality, locality_from_record

    locality = locality_from_record(article.locality) if article.locality else None
    if locality is None:
        locality = extract_locality(article.title, article.lead, article.body, article.source)
    return locality


def analyse(articles_):
    """Segment titles and texts into terms and find the localities: the costly part, run in workers.
    Articles analysed together segment faster (`term_numbers.TermNumbers.terms_many`)."""
    terms = iter(term_numbers.term_numbers().terms_many([text for a in articles_ for text in (a.title, a.text)]))
    return [Analysed(a, next(terms), next(terms), find_locality(a)) for a in articles_]


def document(analysed):
    """The Whoosh fields of an analysed article."""
    a = analysed.article
    loc = analysed.locality
    moment = a.date.moment.astimezone(VIETNAM).replace(tzinfo=None) if a.date else None
    province = loc.province if loc and loc.province else NO_VALUE
    fields = dict(
        id=a.id, content_hash=a.content_hash,
        **{name: a.title for name in TITLE_FIELDS.values()},
        **{name: a.text for name in TEXT_FIELDS.values()},
        lead=a.lead, body=a.body,
        published=a.date.isoformat() if a.date else None,
        year=f"{moment:%Y}" if moment else NO_VALUE, month=f"{moment:%Y-%m}" if moment else NO_VALUE,
        source=a.source, author=a.author, url=a.url, category=a.category or NO_VALUE,
        region=(loc.region or NO_VALUE) if loc else NO_VALUE,
        province=province,
        district=f"{province}|{loc.district}" if loc and loc.district else NO_VALUE,
        province_2025=(loc.province_2025 or NO_VALUE) if loc else NO_VALUE,
        locality_confidence=loc.confidence if loc and loc.province else None,
    )
    if moment:
        fields["date"] = moment
    return fields


_done = None  # articles built so far, shared with the workers for the progress bar


def _pool(workers):
    global _done
    segmenter.load()  # load the model once, before forking: the workers share it
    context = multiprocessing.get_context("fork")
    _done = context.Value("q", 0)
    return context.Pool(workers)


def _build(task, tick=None):
    """Analyse a share of a batch and write it as a new segment: (whoosh Segment or None, ids in docnum order)."""
    index_dir, share = task
    tick = tick or _tick

    def analysed():
        for first in range(0, len(share), ANALYSED_TOGETHER):
            for item in analyse(share[first:first + ANALYSED_TOGETHER]):
                yield item
                tick()

    return build_segment(index_dir, analysed(), document)


def _tick():
    with _done.get_lock():
        _done.value += 1


def _shares(todo, n):
    """`todo` cut into at most `n` runs of about equal text length, so the workers finish together."""
    sizes = [len(a.title) + len(a.text) + 1 for a in todo]
    total, shares, start, done = sum(sizes), [], 0, 0
    for i, size in enumerate(sizes):
        done += size
        if done * n >= total * (len(shares) + 1) and len(shares) < n - 1:
            shares.append(todo[start:i + 1])
            start = i + 1
    shares.append(todo[start:])
    return [share for share in shares if share]


def _prepare_dir(index_dir, rebuild, lock_timeout):
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        return open_for_writing(index_dir, rebuild, lock_timeout)
    except OSError as e:
        raise IndexUnavailable(f"cannot write the index in {index_dir}: {e.strerror or e}") from None


def index_articles(paths, index_dir, fields=None, rebuild=False, workers=None, lock_timeout=30.0,
                   progress=None, report=None, total=None, note=None):
    """Index every article under `paths` into `index_dir`; returns a Summary.

    `report(problem)` is called for each file or record that was skipped, `note(problem)` for what is
    said of a record indexed all the same (a date that is none, an id given again);
    `progress.advance()` for each article read.

    Each batch is decided under the index lock, against what the index holds then (`Committer.known`):
    two runs at once write each article once, the later run's version last.
    """
    started = time.monotonic()
    ix = _prepare_dir(index_dir, rebuild, lock_timeout)
    summary = Summary()
    writer = Committer(ix, rebuild, lock_timeout, BATCH)
    workers = workers or os.cpu_count() or 1
    pool = _pool(workers) if workers > 1 else None
    first_seen = {}  # id -> where this run read it first
    failure = None

    def noted(problem, into, tell):
        into.append(problem)
        if tell:
            tell(problem)

    try:
        for batch in _batches(articles.read(paths, fields), BATCH):
            writer.open()
            todo = {}
            for item in batch:
                if isinstance(item, articles.Problem):
                    noted(item, summary.problems, report)
                    continue
                for notice in item.notices:
                    noted(notice, summary.notices, note)
                again = item.id in first_seen
                if again:
                    summary.duplicates += 1
                    noted(articles.Problem(item.origin, f"id {item.id!r} again (first at {first_seen[item.id]}): "
                                                        "this later record is the one kept"), summary.notices, note)
                else:
                    first_seen[item.id] = item.origin
                known = writer.known
                if known.get(item.id) == item.content_hash:
                    summary.unchanged += not again
                    continue
                if item.id in known:
                    writer.replace(item.id)
                if not again:
                    if item.id in known:
                        summary.updated += 1
                    else:
                        summary.indexed += 1
                todo.pop(item.id, None)  # a later copy in the same batch replaces it
                todo[item.id] = item
                known[item.id] = item.content_hash
            if progress:
                progress.advance(len(batch) - len(todo), total)
            if todo:
                writer.add(_built(list(todo.values()), writer.folder, pool, workers, progress, total))
        if pool is not None:  # the workers' memory is given back before the merge needs its own
            pool.terminate()
            pool = None
        writer.commit(merge=True)
        if compaction.worth_compacting(ix):
            summary.compacted = compaction.compact(ix, lock_timeout)
    except OSError as e:
        failure = e.strerror or str(e)
    except BaseException:
        writer.cancel()
        raise
    finally:
        if pool is not None:
            pool.terminate()
    if failure:  # raised here, not in the except clause, so nothing keeps the failed writer alive
        writer.cancel()
        gc.collect()
        raise IndexUnavailable(f"cannot write the index in {index_dir}: {failure}; the last committed index is intact")
    summary.seconds = time.monotonic() - started
    return summary


def _built(todo, index_dir, pool, workers, progress, total):
    """(segment, ids) for `todo`, built by the workers (or here, for a few articles), advancing `progress`."""
    if pool is None or len(todo) < PARALLEL_FROM:
        tick = (lambda: progress.advance(1, total)) if progress else (lambda: None)
        return [_build((index_dir, todo), tick)]
    start = _done.value
    result = pool.map_async(_build, [(index_dir, share) for share in _shares(todo, workers)], chunksize=1)
    shown = start
    while not result.ready():
        result.wait(0.2)
        if progress and _done.value > shown:
            progress.advance(_done.value - shown, total)
            shown = _done.value
    if progress and start + len(todo) > shown:
        progress.advance(start + len(todo) - shown, total)
    return result.get()


def _batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def estimate_total(paths):
    """How many articles `paths` hold, cheaply (files and lines), for the progress bar."""
    count = 0
    for path in map(Path, paths):
        try:
            if path.is_dir():
                count += sum(1 for _ in articles.text_files(path))
            elif path.name.endswith((".gz", ".jsonl", ".ndjson")):
                count += articles.count_records(path)
            else:
                count += 1
        except OSError:
            count += 1
    return count
