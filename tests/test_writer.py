import subprocess
import sys

import pytest
from whoosh import index as whoosh_index

from index.store.directory import IndexUnavailable, known_hashes
from index.writer import index_articles
from search.engine import Engine
from search.postings import document_frequencies
from tests.conftest import SEEDS, write_jsonl


def _records(tmp_path, bodies):
    return write_jsonl(tmp_path / "records.jsonl",
                       [{"id": f"a{i}", "title": f"Bài {i}", "body": body} for i, body in enumerate(bodies)])


def test_rerun_on_unchanged_input_changes_nothing(copy_of_seeds_index):
    summary = index_articles([SEEDS], copy_of_seeds_index, workers=1)
    assert (summary.indexed, summary.updated, summary.unchanged, summary.skipped) == (0, 0, 5, 0)


def test_changed_article_is_updated_in_place(tmp_path):
    ix_dir = tmp_path / "ix"
    index_articles([_records(tmp_path, ["Đảng viên họp chi bộ.", "Nông dân thu hoạch lúa."])], ix_dir, workers=1)
    summary = index_articles([_records(tmp_path, ["Đảng viên họp chi bộ.", "Ngư dân ra khơi đánh cá."])], ix_dir,
                             workers=1)
    assert (summary.indexed, summary.updated, summary.unchanged) == (0, 1, 1)
    ix = whoosh_index.open_dir(str(ix_dir))
    assert ix.doc_count() == 2
    with Engine(ix_dir) as engine:
        assert engine.article("a1")["body"] == "Ngư dân ra khơi đánh cá."


def test_rebuild_starts_afresh(tmp_path):
    ix_dir = tmp_path / "ix"
    index_articles([_records(tmp_path, ["Một.", "Hai."])], ix_dir, workers=1)
    write_jsonl(tmp_path / "other.jsonl", [{"id": "x", "body": "Ba."}])
    summary = index_articles([tmp_path / "other.jsonl"], ix_dir, rebuild=True, workers=1)
    assert summary.indexed == 1
    assert set(known_hashes(whoosh_index.open_dir(str(ix_dir)))) == {"x"}



def test_an_index_written_before_index_was_split_into_packages_asks_for_a_rebuild(copy_of_seeds_index):
    """Its table of contents names the analyzers by their old module (`index.analysis`, now a package): it is
    refused with the rebuild message, not a traceback, and `--rebuild` replaces it."""
    from search.engine import Engine
    from search.request import SearchRequest

    for toc in copy_of_seeds_index.glob("*.toc"):
        old = toc.read_bytes().replace(b"cindex.analysis.analyzers\n", b"cindex.analysis\n")
        assert old != toc.read_bytes()
        toc.write_bytes(old)
    with pytest.raises(IndexUnavailable, match="another version of vnsearch; run `vnsearch index --rebuild`"):
        Engine(copy_of_seeds_index)
    with pytest.raises(IndexUnavailable, match="--rebuild"):
        index_articles([SEEDS], copy_of_seeds_index, workers=1)
    summary = index_articles([SEEDS], copy_of_seeds_index, workers=1, rebuild=True)
    with Engine(copy_of_seeds_index) as engine:
        assert summary.indexed == 5 and engine.search(SearchRequest(q="Thủ Đức")).total >= 1

def test_bad_input_is_reported_and_the_rest_indexed(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Bài tốt về đảng viên\n\nNội dung bài tốt.\n", "utf-8")
    (folder / "bad.txt").write_bytes(b"\x00\x01\x02binary")
    reported = []
    summary = index_articles([folder], tmp_path / "ix", workers=1, report=reported.append)
    assert summary.indexed == 1 and summary.skipped == 1
    assert "bad.txt" in str(reported[0])


def test_parallel_workers_index_the_same_as_one_process(tmp_path):
    bodies = [f"Bài số {i}: Hội đồng nhân dân tỉnh họp kỳ thứ {i}, bàn về hòa bình và thủy lợi." for i in range(80)]
    records = _records(tmp_path, bodies)
    index_articles([records], tmp_path / "one", workers=1)
    index_articles([records], tmp_path / "two", workers=2)
    lexicons = []
    for name in ("one", "two"):
        with whoosh_index.open_dir(str(tmp_path / name)).reader() as r:
            lexicons.append(document_frequencies(r, "text"))
    assert lexicons[0] == lexicons[1] and lexicons[0]["hòa_bình"] == 80


def test_a_second_indexer_waits_for_the_lock_then_says_so(copy_of_seeds_index):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from whoosh import index; "
         "w = index.open_dir(sys.argv[1]).writer(); print('locked', flush=True); time.sleep(30)",
         str(copy_of_seeds_index)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexUnavailable, match="locked by another"):
            index_articles([SEEDS], copy_of_seeds_index, workers=1, rebuild=True, lock_timeout=0.5)
    finally:
        holder.kill()
        holder.wait()
    assert len(known_hashes(whoosh_index.open_dir(str(copy_of_seeds_index)))) == 5


def test_a_failed_run_leaves_the_last_commit_readable(copy_of_seeds_index, tmp_path):
    records = write_jsonl(tmp_path / "r.jsonl", [{"id": f"n{i}", "body": "Văn bản mới."} for i in range(3)])
    class Boom(Exception):
        pass

    def report(problem):
        raise Boom

    write_jsonl(tmp_path / "z_bad.jsonl", [{"title": "no id"}])
    with pytest.raises(Boom):
        index_articles([records, tmp_path / "z_bad.jsonl"], copy_of_seeds_index, workers=1, rebuild=True,
                       report=report)
    assert len(known_hashes(whoosh_index.open_dir(str(copy_of_seeds_index)))) == 5


def test_an_unwritable_index_directory_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(IndexUnavailable, match="cannot write the index"):
        index_articles([SEEDS], blocker / "ix", workers=1)


@pytest.mark.parametrize("rebuild", [False, True])
@pytest.mark.parametrize("workers", [1, 2])
def test_an_article_given_twice_is_indexed_once_in_its_last_version(tmp_path, monkeypatch, rebuild, workers):
    import index.writer

    monkeypatch.setattr(index.writer, "BATCH", 100)  # copies in one batch, and in batches apart
    monkeypatch.setattr(index.writer, "PARALLEL_FROM", 10)
    records = [{"id": f"a{i}", "title": f"Bài {i}", "body": f"Nông dân vụ {i}."} for i in range(250)]
    records[5]["body"] = records[150]["body"] = "Bản cũ."
    records += [{"id": "a5", "body": "Bản mới của a5."}, {"id": "a150", "body": "Bản mới ở lô sau."}]
    records.insert(60, {"id": "a0", "body": "Bản mới của a0."})  # in the same batch as the first copy
    path = write_jsonl(tmp_path / "r.jsonl", records)
    noted = []
    summary = index_articles([path], tmp_path / "ix", workers=workers, rebuild=rebuild, note=noted.append)
    assert (summary.indexed, summary.updated, summary.duplicates) == (250, 0, 3)
    assert "3 ids given again (the later record kept)" in str(summary)
    assert [(p.origin, f"first at {path}:{line}" in p.message) for p, line in zip(noted, (1, 6, 152))] == [
        (f"{path}:61", True), (f"{path}:252", True), (f"{path}:253", True)]
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    assert ix.doc_count() == 250
    with ix.searcher() as s:
        assert len(list(s.document_numbers(id="a150"))) == 1
    with Engine(tmp_path / "ix") as engine:
        assert engine.article("a0")["body"] == "Bản mới của a0."
        assert engine.article("a5")["body"] == "Bản mới của a5."
        assert engine.article("a150")["body"] == "Bản mới ở lô sau."


def test_progress_counts_every_article_once_with_workers(tmp_path):
    class Counting:
        done = 0

        def advance(self, count=1, total=None):
            self.done += count

    records = _records(tmp_path, [f"Bài số {i} về hòa bình." for i in range(150)])
    progress = Counting()
    index_articles([records], tmp_path / "ix", workers=2, progress=progress)
    assert progress.done == 150


def test_segments_are_plain_files_that_searchers_read_in_place(tmp_path):
    """Whoosh copies every file of a compound (.seg) segment into memory for each searcher it opens."""
    index_articles([SEEDS], tmp_path / "ix", workers=1)
    assert not list((tmp_path / "ix").glob("*.seg"))
    with whoosh_index.open_dir(str(tmp_path / "ix")).searcher() as searcher:
        assert searcher.doc_count() == 5


def test_many_small_runs_keep_every_article_searchable(tmp_path):
    """Whoosh's merge policy would fold small segments into one without their posting files."""
    from search.engine import Engine
    from search.request import SearchRequest

    for run in range(8):
        records = write_jsonl(tmp_path / f"r{run}.jsonl",
                              [{"id": f"a{run}", "title": f"Bài {run}", "body": f"Chuyện thứ {run} về con mèo."}])
        index_articles([records], tmp_path / "ix", workers=1)
    with Engine(tmp_path / "ix") as engine:
        result = engine.search(SearchRequest.from_params({"q": "con mèo", "limit": "20"}))
    assert sorted(h.id for h in result.hits) == [f"a{run}" for run in range(8)]


def test_a_run_whose_last_batch_commits_itself_still_merges_its_posting_files(tmp_path, monkeypatch):
    import index.writer
    from index.store.postingfile import PostingFile

    monkeypatch.setattr(index.writer, "BATCH", 50)  # 100 articles: the second batch fills a commit by itself
    records = [{"id": f"a{i}", "title": f"Bài {i}", "body": f"Nông dân vụ {i}."} for i in range(100)]
    index_articles([write_jsonl(tmp_path / "r.jsonl", records)], tmp_path / "ix", workers=1)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) == 2 and PostingFile.merged(reader) is not None
