"""The index directory: where it is, opening it (refusing one this version cannot read), and committing
new segments into it under Whoosh's lock."""

import contextlib
import gc
import json
import os
import time
import zlib
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.util.filelock import try_for

from index.store import builder, postingfile, stored
from index.store.errors import IndexDamaged, IndexUnavailable, RebuildNeeded  # noqa: F401 (the commands' names)
from index.store.schema import make_schema

INDEX_ENV = "VNSEARCH_INDEX"


def default_index_dir():
    """`$VNSEARCH_INDEX`, else `$XDG_DATA_HOME/vnsearch/index` (~/.local/share/vnsearch/index)."""
    if os.environ.get(INDEX_ENV):
        return Path(os.environ[INDEX_ENV])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "vnsearch" / "index"


def exists(index_dir):
    """Whether a commit's table of contents is in `index_dir`, without reading it (Whoosh's `exists_in`
    unpickles it, which fails on an index of another version)."""
    return (os.path.isdir(index_dir)
            and whoosh_index.TOC._latest_generation(FileStorage(str(index_dir)), whoosh_index._DEF_INDEX_NAME) > -1)


def create(index_dir):
    """A new, empty index in `index_dir` (replacing what a commit there listed)."""
    return whoosh_index.create_in(str(index_dir), make_schema())


def open_index(index_dir):
    """The index in `index_dir`, or IndexUnavailable saying how to make one.

    An index this version cannot read whole (made by another version: other
    fields, analyzers at other module paths, posting files of another format;
    or segments without their posting files or stored-fields files) is refused with RebuildNeeded:
    searching it would quietly miss what it lacks. Every file of its last
    commit is checked (`check`): a damaged one is an IndexDamaged naming it.
    """
    if not exists(index_dir):
        raise IndexUnavailable(f"no index in {index_dir}: run `vnsearch index` first")
    try:
        ix = whoosh_index.open_dir(str(index_dir))
    except (ImportError, AttributeError):
        # its table of contents names analyzer classes by the module paths of the version that wrote it
        raise _another_version(index_dir) from None
    except OSError as e:
        raise IndexUnavailable(f"cannot open the index in {index_dir}: {e.strerror or e}") from None
    except Exception as e:  # the table of contents is not what Whoosh wrote: truncated, overwritten
        toc = whoosh_index.TOC._filename(whoosh_index._DEF_INDEX_NAME, whoosh_index.TOC._latest_generation(
            FileStorage(str(index_dir)), whoosh_index._DEF_INDEX_NAME))
        raise IndexDamaged(os.path.join(index_dir, toc), f"cannot be read: {type(e).__name__}") from None
    if sorted(ix.schema.names()) != sorted(make_schema().names()):
        raise _another_version(index_dir)
    folder = getattr(ix.storage, "folder", None)
    segments = ix._segments() if folder is not None else []
    for segment in segments:
        if not postingfile.is_current(folder, segment):
            raise _another_version(index_dir)
    check(ix)
    merged = postingfile.merged_file(folder, segments)
    for segment in segments[len(merged.segments) if merged is not None else 0:]:
        if not postingfile.exists(folder, segment):
            raise RebuildNeeded(without_posting_file(segment))
    for segment in segments:
        # after `check`: a file its sums list and that is gone is damage; one they never listed, another version
        if not (stored.exists(folder, segment) and stored.is_current(folder, segment)):
            raise _another_version(index_dir)
    return ix


# A folder changed this recently may change again within its clock's tick and keep the same time (as git's
# "racily clean" files): its commits are listed again rather than known from the time.
SETTLED_NS = 2 * 10 ** 9


def open_searcher(ix):
    """A Whoosh searcher of the last commit of the index `ix`; IndexUnavailable when its folder is gone (deleted
    under a running server: the pages say the index is unavailable, not that something broke)."""
    try:
        return ix.searcher()
    except (whoosh_index.EmptyIndexError, FileNotFoundError):
        raise _gone(ix) from None


def _gone(ix):
    return IndexUnavailable(f"no index in {getattr(ix.storage, 'folder', ix)} any more: run `vnsearch index` again")


class LatestCommit:
    """The number of an index's last commit, its folder listed again only when it changed: its modification
    time moved, or is too recent to rely on. Whoosh lists the folder for each search, and an archive's
    folder holds a thousand files (half a millisecond a search at 104,586 articles)."""

    def __init__(self, ix):
        self._ix = ix
        self._folder = getattr(ix.storage, "folder", None)
        self._known = None  # (the folder's modification time, the last commit then)

    def generation(self):
        if self._folder is None:  # an index in memory
            return self._ix.latest_generation()
        try:
            modified = os.stat(self._folder).st_mtime_ns  # before the listing: a commit meanwhile moves it on
        except FileNotFoundError:
            raise _gone(self._ix) from None
        known = self._known
        if known is not None and known[0] == modified and time.time_ns() - modified > SETTLED_NS:
            return known[1]
        generation = self._ix.latest_generation()
        self._known = (modified, generation)
        return generation


def open_for_writing(index_dir, rebuild=False, lock_timeout=30.0):
    """The index in `index_dir` to write into: created when there is none, or, with `rebuild`, when it
    cannot be read (another version, damaged). Created under the writer lock, so that two runs
    starting on an empty folder never both create it (the second would wipe the first's commit)."""
    try:
        return open_index(index_dir)
    except IndexUnavailable:
        if exists(index_dir) and not rebuild:
            raise
    lock = FileStorage(str(index_dir)).lock(_WRITELOCK)
    if not try_for(lock.acquire, lock_timeout, 0.25):
        raise _locked(index_dir, lock_timeout)
    try:
        try:
            return open_index(index_dir)  # another run may have made it meanwhile
        except IndexUnavailable:
            if exists(index_dir) and not rebuild:
                raise
            return create(index_dir)
    finally:
        lock.release()


_WRITELOCK = whoosh_index._DEF_INDEX_NAME + "_WRITELOCK"  # the lock Whoosh's writer takes


def _locked(index_dir, timeout):
    return IndexUnavailable(f"the index in {index_dir} is locked by another `vnsearch index`; "
                            f"waited {timeout:g} s (try again when it has finished)")


def _another_version(index_dir):
    return RebuildNeeded(f"the index in {index_dir} was made by another version of vnsearch; "
                         "run `vnsearch index --rebuild`")


def without_posting_file(segment):
    """The message refusing a Whoosh `segment` that has no posting file."""
    return (f"segment {segment.segment_id()} of the index has no posting file (segments merged by another "
            "program, such as Whoosh's optimize(), lose theirs); run `vnsearch index --rebuild`")


SUMS = ".sums"  # a segment's files with their sizes and CRC-32s, written when the segment is committed


def check(ix):
    """Raise IndexDamaged for the first file of the last commit that is not as it was written: missing,
    of another size, another CRC-32 (Whoosh's files, against their segment's SUMS), or a posting file
    whose footer does not match (its pages are checked as they are read). Segments Whoosh wrote
    itself have neither posting file nor sums: nothing to check them against."""
    folder = getattr(ix.storage, "folder", None)
    if folder is None:
        return
    for segment in ix._segments():
        sums = os.path.join(folder, segment.make_filename(SUMS))
        own = os.path.join(folder, segment.make_filename(postingfile.EXTENSION))
        if os.path.exists(sums):
            for name, (size, crc) in _read_sums(sums).items():
                path = os.path.join(folder, name)
                try:
                    found = os.path.getsize(path)
                except OSError:
                    raise IndexDamaged(path, "missing") from None
                if found != size:
                    raise IndexDamaged(path, f"{found} bytes where {size} were written")
                if crc is not None and _crc(path) != crc:
                    raise IndexDamaged(path, "its checksum does not match")
        elif os.path.exists(own):
            raise IndexDamaged(sums, "missing")
        for path in (own, os.path.join(folder, segment.make_filename(postingfile.MERGED))):
            if os.path.exists(path):
                postingfile.check(path)


def write_sums(folder, segment):
    """Record the sizes and CRC-32s of a new segment's Whoosh files, before a commit lists it (not its
    posting file: it checks itself, and is deleted once a merged file covers it)."""
    prefix = segment.make_filename(".")
    files = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith(prefix) and not name.endswith((SUMS, postingfile.EXTENSION, ".tmp")):
            path = os.path.join(folder, name)
            files[name] = [os.path.getsize(path), _crc(path)]
    body = json.dumps(files, sort_keys=True)
    with open(os.path.join(folder, segment.make_filename(SUMS)), "w", encoding="utf-8") as f:
        f.write(f"{zlib.crc32(body.encode('utf-8')):08x} {body}")


def _read_sums(path):
    try:
        with open(path, encoding="utf-8") as f:
            crc, _, body = f.read().partition(" ")
        if int(crc, 16) != zlib.crc32(body.encode("utf-8")):
            raise ValueError("checksum")
        return json.loads(body)
    except ValueError:  # bad hex, JSON or UTF-8
        raise IndexDamaged(path, "it cannot be read") from None


def _crc(path):
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def known_hashes(ix):
    """{article id: content hash} of what the index holds, read from columns."""
    with ix.reader() as reader:
        if reader.doc_count_all() == 0:
            return {}
        ids = reader.column_reader("id")
        hashes = reader.column_reader("content_hash")
        return {ids[n]: hashes[n] for n in reader.all_doc_ids()}


def build_segment(index_dir, analysed_articles, document):
    """`builder.build` into the index in `index_dir`, opened in this (worker) process."""
    return builder.build(whoosh_index.open_dir(str(index_dir)), analysed_articles, document)


class Committer:
    """Holds the index lock while segments are built; deletes replaced articles; commits the new segments.

    Commits every `batch` articles written (or once, for a rebuild). `known` ({id: content hash}) is
    what the index holds, read under the lock: again whenever another run committed while this one
    did not hold it, so that what this run writes is decided on what is there.
    """

    def __init__(self, ix, rebuild, lock_timeout, batch):
        self.ix = ix
        self.rebuild = rebuild
        self.lock_timeout = lock_timeout
        self.batch = batch
        self.writer = None
        self.segments = []  # built since the last commit
        self.pending = {}  # id -> (segment, docnum) of what they hold
        self.deleted = False  # since the last commit
        self.unmerged = False  # a commit of this run left several posting files for the last one to merge
        self.known = {}
        self._generation = None  # of the commit `known` was read from

    @property
    def folder(self):
        return str(self.ix.storage.folder)

    def open(self):
        """Take the lock (when not held), and read `known` again if the index changed meanwhile."""
        if self.writer is not None:
            return
        failure = None
        try:
            self.writer = self.ix.writer(timeout=self.lock_timeout, delay=0.25, compound=builder.COMPOUND)
        except whoosh_index.LockError:
            raise _locked(self.ix.storage.folder, self.lock_timeout) from None
        except OSError as e:
            failure = e.strerror or str(e)
        if failure:
            # A writer that failed half-way holds the lock until it is collected: free it before reporting.
            gc.collect()
            raise OSError(failure)
        generation = self.writer.generation - 1  # the commit the writer starts from
        if generation != self._generation and not self.rebuild:
            self.known = known_hashes(self.ix)
        self._generation = generation

    def replace(self, article_id):
        """Delete the copy of `article_id` already written: in a segment built since the last commit, or in the index."""
        self.open()
        held = self.pending.pop(article_id, None)
        if held is not None:
            held[0].delete_document(held[1])
        elif not self.rebuild:
            self.writer.delete_by_term("id", article_id)
        self.deleted = True

    def add(self, built):
        """Take the (segment, ids) pairs of one batch; commit when `batch` articles wait (never between a batch's
        segments: a commit deletes the files of segments it does not list)."""
        for segment, ids in built:
            if segment is not None:
                self.segments.append(segment)
                for docnum, article_id in enumerate(ids):
                    self.pending[article_id] = (segment, docnum)
        if not self.rebuild and len(self.pending) >= self.batch:
            self.commit()

    def commit(self, merge=False):
        """Commit the segments built since the last commit; `merge`: also merge every segment's posting
        file into one (the run's last commit). Nothing changed (but for a rebuild): no new commit."""
        merging = merge and self.unmerged  # even when the last batch committed itself
        if self.writer is None and (self.rebuild or merging):
            self.open()  # a rebuild of nothing still clears the old index
        if self.writer is None:
            return
        if not (self.segments or self.deleted or self.rebuild or merging):
            self.cancel()
            return
        writer = self.writer
        try:
            # as Whoosh's own commit, with the workers' segments added to the list. Never Whoosh's merge
            # policy: its merged segment would lose the text postings, which are in posting files.
            segments = ([] if self.rebuild else list(writer.segments)) + self.segments
            writer._close_segment()
            for segment in self.segments:
                write_sums(self.folder, segment)
            covered = []
            if merge and len(segments) > 1:
                self._remove_half_merged()
                covered = postingfile.merge_segments(self.ix.storage.folder, segments)
            writer._commit_toc(segments)
            for path in covered:  # what the merged file holds: readers that opened them keep them open
                with contextlib.suppress(OSError):
                    os.remove(path)
            self.unmerged = not merge and len(segments) > 1
        except Exception:
            self._abandon(writer)
            raise
        finally:
            self.writer, self.segments, self.pending, self.deleted = None, [], {}, False
        self._generation = writer.generation
        writer._finish()

    def cancel(self):
        """Drop the uncommitted batch, and delete its files; the last commit stays what readers see."""
        if self.writer is not None:
            self._abandon(self.writer)
        self.writer, self.segments, self.pending, self.deleted = None, [], {}, False

    def _abandon(self, writer):
        """Close `writer`, delete what no commit lists, then free the lock: segments this run built (or
        began, in a worker that failed) and a merged posting file half written. Deleted while the lock is
        held, so that no other run's new files are taken for ours."""
        try:
            writer._close_segment()
        except Exception:  # closed already (a commit that failed half-way), or failing to write
            pass
        try:
            toc = whoosh_index.TOC.read(self.ix.storage, self.ix.indexname)
            whoosh_index.clean_files(self.ix.storage, self.ix.indexname, toc.generation, toc.segments)
            self._remove_half_merged()
        except Exception:  # best effort: the next commit deletes them too
            pass
        writer._cleanup_on_error()  # frees the lock

    def _remove_half_merged(self):
        """Delete merged posting files half written (by this run, or one killed while merging); Whoosh keeps
        them, as their name starts with a segment that commits still list."""
        for name in os.listdir(self.folder):
            if name.endswith(postingfile.MERGED + ".tmp"):
                os.remove(os.path.join(self.folder, name))
