"""A segment's posting file must give back exactly the postings Whoosh holds for the same articles."""

import numpy as np
import pytest
from whoosh import index as whoosh_index

from index.store import builder, postingfile
from index.store.errors import IndexDamaged, IndexUnavailable, RebuildNeeded
from index.store.postingfile import PostingFile
from index.store.reading import CommitPostings, field_lengths
from index.store.schema import GRANULARITIES, TEXT_FIELDS, TITLE_FIELDS
from index.writer import analyse, index_articles
from search.postings import Postings, document_frequencies, inverse_frequency
from tests.test_builder import _articles, built_index, reference_index


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("postingfile")
    analysed = analyse(_articles(tmp_path))
    return built_index(tmp_path, analysed)[0], reference_index(tmp_path, analysed)


def _whoosh_postings(reader, field, term):
    m = reader.postings(field, term)
    found = []
    while m.is_active():
        found.append((m.id(), m.weight()))
        m.next()
    return found


def test_every_term_of_every_text_field_reads_back_as_whoosh_holds_it(indexes):
    ours, reference = indexes
    with ours.reader() as r, reference.reader() as ref:
        (segment, _), = r.leaf_readers()
        stored = PostingFile.of(segment)
        assert stored is not None and stored.documents == r.doc_count_all()
        for field in builder.SOURCES:
            assert not list(r.lexicon(field)), "written once: in the posting file, not in Whoosh's term index"
            expected = {t.decode("utf-8"): ref.doc_frequency(field, t) for t in ref.lexicon(field)}
            assert stored.frequencies(field) == expected
            for term in expected:
                ids, freqs = stored.postings(field, term)
                assert list(zip(ids.tolist(), freqs.tolist())) == _whoosh_postings(ref, field, term), (field, term)


def test_a_term_the_segment_lacks_is_not_found(indexes):
    ours, _ = indexes
    with ours.reader() as r:
        (segment, _), = r.leaf_readers()
        stored = PostingFile.of(segment)
        assert stored.postings("text_syl", "lúa") is not None
        assert stored.postings("text_syl", "lúaa") is None
        assert stored.postings("text_syl", "") is None
        assert stored.postings("no_such_field", "lúa") is None


def test_terms_whose_hashes_collide_are_told_apart(tmp_path, monkeypatch):
    """Runs of one hash longer than the blocks a lookup reads at a time, and terms beside them."""
    odd = {b"between": 1, b"past": 9}

    def colliding(name):  # the first half, the lookup's hash, collides; the check does not
        return odd.get(name, len(name) % 3 * 2)

    real = postingfile.digests

    def digests(blob, starts, lengths):
        names = [blob[s:s + n].tobytes() for s, n in zip(starts.tolist(), lengths.tolist())]
        return np.array([colliding(n) for n in names], dtype=np.uint64), real(blob, starts, lengths)[1]

    monkeypatch.setattr(postingfile, "term_hash", colliding)
    monkeypatch.setattr(postingfile, "digests", digests)
    terms = {f"lúa{i}": [i % 7, 1 + i % 5, 7 + i % 3, 2] for i in range(10 * postingfile.FENCE)}
    field = postingfile.FieldPostings(named_by(list(terms)))
    for doc in range(10):
        found = [(k, p[1] if p[0] == doc else p[3]) for k, p in enumerate(terms.values()) if doc in p[0::2]]
        field.add(doc, *np.array(found, dtype=np.int64).reshape(-1, 2).T)
    with open(tmp_path / "x.vnp", "wb") as f:
        postingfile.write(f, {"text_syl": field}, documents=10)
    stored = PostingFile(tmp_path / "x.vnp")
    for term, postings in terms.items():
        ids, freqs = stored.postings("text_syl", term)
        assert list(zip(ids.tolist(), freqs.tolist())) == list(zip(postings[0::2], postings[1::2]))
    for absent in ("lùa", "lúa", "lúa99999", "between", "past"):  # hashes inside, between and past the runs
        assert stored.postings("text_syl", absent) is None


def named_by(terms):
    """A `FieldPostings` names function for keys numbering `terms`."""
    encoded = [t.encode("utf-8") for t in terms]
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    ends = np.cumsum([0] + [len(t) for t in encoded])

    def names(keys):
        return blob, ends[keys][:, None], (ends[keys + 1] - ends[keys])[:, None]
    return names


def test_one_terms_hash_is_its_digests_first_half():
    """The query side hashes one term in Python, the writer every term at once in numpy."""
    rng = np.random.default_rng(5)
    names = [b"", b"a", "đảng viên".encode("utf-8"), bytes(range(256))] + [
        rng.integers(0, 256, size=int(n), dtype=np.uint8).tobytes() for n in rng.integers(1, 90, size=300)]
    blob = np.frombuffer(b"".join(names), dtype=np.uint8)
    lengths = np.array([len(n) for n in names])
    hashes, checks = postingfile.digests(blob, np.cumsum(lengths) - lengths, lengths)
    assert hashes.tolist() == [postingfile.term_hash(n) for n in names]
    assert len(set(zip(hashes.tolist(), checks.tolist()))) == len(set(names))
    assert not np.array_equal(hashes, checks)


def test_a_file_that_is_not_a_posting_file_is_refused(tmp_path):
    (tmp_path / "x.vnp").write_bytes(b"PK\x03\x04 something else entirely")
    with pytest.raises(IndexDamaged, match="x.vnp is damaged .*vnsearch index --rebuild"):
        PostingFile(tmp_path / "x.vnp")


def test_search_reads_the_postings_and_lengths_whoosh_holds(indexes):
    """What BM25F is computed from, read through the store, against Whoosh's own index of the same articles."""
    ours, reference = indexes
    with ours.reader() as r, reference.reader() as ref:
        postings = Postings(r)
        for granularity in GRANULARITIES:
            for field in (TITLE_FIELDS[granularity], TEXT_FIELDS[granularity]):
                assert np.array_equal(field_lengths(r, field), field_lengths(ref, field)), field
                for term in ("lúa", "lúa gạo", "nông_dân", "nong dan", "lua", "đảng viên", "thu", "không có"):
                    ids, tf = postings._frequencies(field, term)
                    expected = _whoosh_postings(ref, field, term) if (field, term) in ref else []
                    assert list(zip(ids.tolist(), tf.tolist())) == expected, (field, term)
        assert field_lengths(r, "text").any()


def test_a_segment_without_its_posting_file_is_refused(indexes):
    """A segment Whoosh wrote itself holds its text postings where search never reads them."""
    _, reference = indexes
    with reference.reader() as ref, pytest.raises(RebuildNeeded, match="no posting file.*`vnsearch index --rebuild`"):
        Postings(ref)


def _segmented_index(tmp_path, runs):
    """An index written by `runs` indexing runs of 80 articles each, two workers: two segments a run."""
    from tests.conftest import write_jsonl

    for run in range(runs):
        records = [{"id": f"r{run}a{i}", "title": f"Tin {i} đợt {run}",
                    "body": f"Nông dân vụ {i} thu hoạch lúa gạo. Đảng viên số {i % 7} họp ở Thủ Đức."}
                   for i in range(80)]
        index_articles([write_jsonl(tmp_path / f"r{run}.jsonl", records)], tmp_path / "ix", workers=2)
    return whoosh_index.open_dir(str(tmp_path / "ix"))


def test_an_indexing_run_merges_its_segments_posting_files_into_one(tmp_path):
    ix = _segmented_index(tmp_path, runs=2)
    with ix.reader() as r:
        assert len(r.leaf_readers()) >= 3
        merged = PostingFile.merged(r)
        assert merged is not None and merged.documents == r.doc_count_all()
        fast = Postings(r)
        slow = Postings(r)
        slow.files = CommitPostings(r, merged=False)
        for granularity in GRANULARITIES:
            terms = document_frequencies(r, TEXT_FIELDS[granularity])
            assert terms == _per_segment_frequencies(r, TEXT_FIELDS[granularity])
            for term in terms:
                a, b = fast._merged(granularity, term), slow._merged(granularity, term)
                assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), (granularity, term)


def _per_segment_frequencies(reader, field):
    found = {}
    for segment, _ in reader.leaf_readers():
        for term, n in PostingFile.of(segment).frequencies(field).items():
            found[term] = found.get(term, 0) + n
    return found


def test_a_merged_file_that_no_longer_covers_the_index_is_not_used(tmp_path):
    from search.engine import Engine
    from search.request import SearchRequest

    ix = _segmented_index(tmp_path, runs=1)
    with ix.reader() as r:
        path = tmp_path / "ix" / r.leaf_readers()[0][0].segment().make_filename(postingfile.MERGED)
    old = path.read_bytes()
    ix = _segmented_index(tmp_path, runs=2)  # the second run merges again, over more segments
    path.write_bytes(old)  # as if that merge had not happened
    with ix.reader() as r:
        assert PostingFile.merged(r) is None
    with Engine(tmp_path / "ix") as engine:
        assert engine.search(SearchRequest.from_params({"q": '"đợt 1"', "limit": "100"})).total == 80


def test_title_and_text_frequencies_are_merged_for_every_article_holding_either(indexes):
    """BM25F's summed frequency, against a plain per-article sum, for every term of title or text."""
    from search.postings import TITLE_WEIGHT

    ours, _ = indexes
    with ours.reader() as r:
        postings = Postings(r)
        for granularity in ("syllables", "pairs"):
            terms = set(document_frequencies(r, TITLE_FIELDS[granularity])) | set(
                document_frequencies(r, TEXT_FIELDS[granularity]))
            assert len(terms) > 100
            for term in terms:
                title = postings._frequencies(TITLE_FIELDS[granularity], term)
                text = postings._frequencies(TEXT_FIELDS[granularity], term)
                expected = np.zeros(postings.size)
                expected[text[0]] += text[1]
                expected[title[0]] += TITLE_WEIGHT * title[1]
                ids, _ = postings._merged(granularity, term)
                scores = postings.scores_at(r, granularity, term, ids)
                assert np.array_equal(ids, np.flatnonzero(expected)), (granularity, term)
                lengths, mean = postings.lengths(r, granularity)
                tf = expected[ids]
                assert np.allclose(scores, inverse_frequency(postings.count, len(ids)) * tf * 2.2
                                   / (tf + 1.2 * (0.25 + 0.75 * lengths[ids] / mean)), rtol=1e-5)


def test_an_index_whoosh_optimized_is_refused_never_searched_in_silence(tmp_path):
    """`optimize()` merges the segments into one without a posting file: its articles would be found by
    no text query. An engine already open refuses the new commit, a new one the index; a rebuild mends it."""
    from search.engine import Engine
    from search.request import SearchRequest

    request = SearchRequest.from_params({"q": "đảng viên", "limit": "100"})
    ix = _segmented_index(tmp_path, runs=1)
    assert len(ix.reader().leaf_readers()) == 2
    with Engine(tmp_path / "ix") as engine:
        assert engine.search(request).total == 80
        ix.optimize()
        assert len(whoosh_index.open_dir(str(tmp_path / "ix")).reader().leaf_readers()) == 1
        with pytest.raises(IndexUnavailable, match="optimize.*run `vnsearch index --rebuild`"):
            engine.search(request)
    with pytest.raises(IndexUnavailable, match="optimize.*run `vnsearch index --rebuild`"):
        Engine(tmp_path / "ix")
    with pytest.raises(IndexUnavailable, match="--rebuild"):
        index_articles([tmp_path / "r0.jsonl"], tmp_path / "ix", workers=1)
    summary = index_articles([tmp_path / "r0.jsonl"], tmp_path / "ix", workers=1, rebuild=True)
    with Engine(tmp_path / "ix") as engine:
        assert summary.indexed == 80 and engine.search(request).total == 80
