"""A segment's posting file must give back exactly the postings Whoosh holds for the same articles."""

import numpy as np
import pytest
from whoosh import index as whoosh_index

from index import builder, postingfile
from index.postingfile import PostingFile
from index.schema import GRANULARITIES, make_schema
from index.writer import analyse, document
from search.postings import Postings, document_frequencies
from tests.test_builder import _articles


def _reference(tmp_path, analysed):
    """The same articles written by Whoosh's add_document: no posting file, read through Whoosh."""
    (tmp_path / "whoosh").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "whoosh"), make_schema())
    writer = ix.writer()
    for item in analysed:
        writer.add_document(**document(item))
    writer.commit()
    return ix


def _built(tmp_path, analysed):
    (tmp_path / "ours").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "ours"), make_schema())
    segment, _ = builder.build(ix, analysed, document)
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc([segment])
    writer._finish()
    return ix


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("postingfile")
    analysed = [analyse(a) for a in _articles(tmp_path)]
    return _built(tmp_path, analysed), _reference(tmp_path, analysed)


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
    monkeypatch.setattr(postingfile, "term_hash", lambda name: odd.get(name, len(name) % 3 * 2))
    terms = {f"lúa{i}": [(i % 7, 1.0 + i % 5), (7 + i % 3, 2.0)] for i in range(10 * postingfile.FENCE)}
    with open(tmp_path / "x.vnp", "wb") as f:
        postingfile.write(f, {"text_syl": terms}, documents=10)
    stored = PostingFile(tmp_path / "x.vnp")
    for term, postings in terms.items():
        ids, freqs = stored.postings("text_syl", term)
        assert list(zip(ids.tolist(), freqs.tolist())) == [(d, w) for d, w in postings]
    for absent in ("lùa", "lúa", "lúa99999", "between", "past"):  # hashes inside, between and past the runs
        assert stored.postings("text_syl", absent) is None


def test_a_file_that_is_not_a_posting_file_is_refused(tmp_path):
    (tmp_path / "x.vnp").write_bytes(b"PK\x03\x04 something else entirely")
    with pytest.raises(ValueError, match="x.vnp"):
        PostingFile(tmp_path / "x.vnp")


def test_search_reads_the_same_scores_from_posting_files_as_through_whoosh(indexes):
    ours, reference = indexes
    with ours.reader() as r, reference.reader() as ref:
        fast, slow = Postings(r), Postings(ref)
        assert fast._files[0] is not None and slow._files == [None]
        for granularity in GRANULARITIES:
            for term in ("lúa", "lúa gạo", "nông_dân", "nong dan", "lua", "đảng viên", "thu", "không có"):
                a, b = fast.term(r, granularity, term), slow.term(ref, granularity, term)
                assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1]), (granularity, term)
        assert document_frequencies(r, "text_pair") == document_frequencies(ref, "text_pair")
