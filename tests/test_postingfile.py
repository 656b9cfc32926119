"""A segment's posting file must give back exactly the postings Whoosh holds for the same articles."""

import os
from collections import Counter

import numpy as np
import pytest
from whoosh import index as whoosh_index

from index.analysis.normalize import fold
from index.store import builder, postingfile
from index.store.errors import IndexDamaged, IndexUnavailable, RebuildNeeded
from index.store.postingfile import PostingFile
from index.store.reading import CommitPostings, field_lengths
from index.store.schema import FOLDED, GRANULARITIES, TEXT_FIELDS, TITLE_FIELDS
from index.store.directory import open_index
from index.writer import analyse, index_articles
from search.postings import Postings, inverse_frequency
from tests.test_builder import _articles, built_index, reference_index


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("postingfile")
    analysed = analyse(_articles(tmp_path))
    return built_index(tmp_path, analysed)[0], reference_index(tmp_path, analysed)


def _postings(posting_file, field, term):
    """(article numbers, frequencies) of `term` in `field` of `posting_file`, its lists summed per article
    (a folded term's readings), or None."""
    return _summed(posting_file.readings(field, term))


def _summed(readings):
    """The postings of readings [(name, article numbers, frequencies)] as one list, each article's
    frequencies summed: a plain reference."""
    summed = Counter()
    for _, ids, freqs in readings:
        assert len(set(ids.tolist())) == len(ids), "a list holds an article once"
        summed.update(dict(zip(ids.tolist(), freqs.tolist())))
    if not summed:
        return None
    ids = sorted(summed)
    return np.array(ids), np.array([summed[n] for n in ids])


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
            if field not in FOLDED:  # a folded field keeps no counts: its postings are its source terms'
                assert stored.frequencies(field) == expected
            for term in expected:
                ids, freqs = _postings(stored, field, term)
                assert list(zip(ids.tolist(), freqs.tolist())) == _whoosh_postings(ref, field, term), (field, term)


def test_a_term_the_segment_lacks_is_not_found(indexes):
    ours, _ = indexes
    with ours.reader() as r:
        (segment, _), = r.leaf_readers()
        stored = PostingFile.of(segment)
        assert _postings(stored, "text_syl", "lúa") is not None
        assert _postings(stored, "text_syl", "lúaa") is None
        assert _postings(stored, "text_syl", "") is None
        assert _postings(stored, "no_such_field", "lúa") is None


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
        ids, freqs = _postings(stored, "text_syl", term)
        assert list(zip(ids.tolist(), freqs.tolist())) == list(zip(postings[0::2], postings[1::2]))
        ids, freqs = _postings(stored, "text_fold", fold(term))  # its run holds other folded forms too
        assert list(zip(ids.tolist(), freqs.tolist())) == list(zip(postings[0::2], postings[1::2]))
    for absent in ("lùa", "lúa", "lúa99999", "between", "past"):  # hashes inside, between and past the runs
        assert _postings(stored, "text_syl", absent) is None and _postings(stored, "text_fold", fold(absent)) is None


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
                    ids, tf = _summed(postings._readings(field, term)) or (np.zeros(0), np.zeros(0))
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


def _by_article(files, reader, field, term):
    """{article id: frequency} of `term` in `field`, read through `files` (a CommitPostings)."""
    found = _summed(files.readings(field, term))
    if found is None:
        return {}
    ids = reader.column_reader("id")
    return {ids[n]: f for n, f in zip(found[0].tolist(), found[1].tolist())}


def _reference_by_article(reference, field, term):
    ids = reference.column_reader("id")
    return {ids[n]: f for n, f in _whoosh_postings(reference, field, term)}


def test_a_merged_index_holds_every_term_as_whoosh_would_and_each_posting_once(tmp_path, monkeypatch):
    """Four segments merged in many small steps (a range of hashes each), against Whoosh's own index of
    the same articles, every term of every field, folded ones included, long lists flat; the segments'
    own files are gone."""
    from index.sources import articles

    monkeypatch.setattr(postingfile, "MERGE_BYTES", 2000)
    monkeypatch.setattr(postingfile, "LONG", 50)  # the commonest syllables' lists are flat
    ix = _segmented_index(tmp_path, runs=2)
    read = [a for a in articles.read([tmp_path / "r0.jsonl", tmp_path / "r1.jsonl"]) if isinstance(a, articles.Article)]
    reference = reference_index(tmp_path, analyse(read))
    with ix.reader() as r, reference.reader() as ref:
        assert len(r.leaf_readers()) == 4
        merged = PostingFile.merged(r)
        assert merged is not None and merged.documents == r.doc_count_all() == 160
        assert [p.name for p in (tmp_path / "ix").glob("*.vnp")] == [os.path.basename(merged.path)]
        files = CommitPostings(r)
        for field in builder.SOURCES:
            expected = {t.decode("utf-8"): ref.doc_frequency(field, t) for t in ref.lexicon(field)}
            if field not in FOLDED:
                assert files.frequencies(field) == expected, field
            for term in expected:
                assert _by_article(files, r, field, term) == _reference_by_article(ref, field, term), (field, term)


def test_a_later_run_merges_the_merged_file_with_its_new_segments(tmp_path):
    """A commit between merges (a batch, a run cut short) reads the merged file for the first segments and
    the new segments' own files; the next merge takes both."""
    from search.engine import Engine
    from search.request import SearchRequest
    from tests.conftest import commit_unmerged, write_jsonl

    ix = _segmented_index(tmp_path, runs=1)
    records = [{"id": f"late{i}", "title": f"Tin muộn {i}", "body": "Nông dân gặt lúa muộn."} for i in range(150)]
    committer = commit_unmerged(tmp_path / "ix", write_jsonl(tmp_path / "late.jsonl", records))
    request = SearchRequest.from_params({"q": "nông dân", "limit": "1"})
    with ix.reader() as r:
        assert len(PostingFile.merged(r).segments) == 2 and len(r.leaf_readers()) == 3
    with Engine(tmp_path / "ix") as engine:
        assert engine.search(request).total == 230
    committer.commit(merge=True)
    with ix.reader() as r:
        assert len(PostingFile.merged(r).segments) == 3
        assert [p.name for p in (tmp_path / "ix").glob("*.vnp")] == [os.path.basename(PostingFile.merged(r).path)]
    with Engine(tmp_path / "ix") as engine:
        assert engine.search(request).total == 230


def test_a_merged_file_of_an_earlier_commit_is_not_read_for_segments_it_lacks(tmp_path):
    """Put back after a later merge deleted the segments' own files: the segments it does not cover have no
    postings any more, and the index asks for a rebuild rather than miss their articles."""
    ix = _segmented_index(tmp_path, runs=1)
    with ix.reader() as r:
        path = tmp_path / "ix" / r.leaf_readers()[0][0].segment().make_filename(postingfile.MERGED)
    old = path.read_bytes()
    ix = _segmented_index(tmp_path, runs=2)  # the second run merges again, over more segments
    path.write_bytes(old)  # as if that merge had not happened
    with ix.reader() as r:
        assert PostingFile.merged(r).segments == [leaf.segment().segment_id() for leaf, _ in r.leaf_readers()[:2]]
    with pytest.raises(RebuildNeeded, match="no posting file.*`vnsearch index --rebuild`"):
        open_index(tmp_path / "ix")


def test_title_and_text_frequencies_are_merged_for_every_article_holding_either(indexes):
    """BM25F's summed frequency (a folded term's readings summed too), against a plain per-article sum of
    Whoosh's postings of the same articles, for every term of title or text."""
    from search.postings import TITLE_WEIGHT

    ours, reference = indexes
    with ours.reader() as r, reference.reader() as ref:
        postings = Postings(r)
        for granularity in GRANULARITIES:
            fields = ((TEXT_FIELDS[granularity], 1), (TITLE_FIELDS[granularity], TITLE_WEIGHT))
            terms = {t.decode("utf-8") for field, _ in fields for t in ref.lexicon(field)}
            assert len(terms) > 100
            for term in terms:
                expected = np.zeros(postings.size)
                for field, weight in fields:
                    for ids, tf in _whoosh_postings(ref, field, term) if (field, term) in ref else []:
                        expected[ids] += weight * tf
                held = postings._term(granularity, term)  # a byte per article or postings (`DENSE_SHARE`)
                ids = np.flatnonzero(held.halves) if held.ids is None else held.ids
                scores = postings.scores_at(r, granularity, term, ids, 1.0)
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


@pytest.mark.parametrize("long", [10 ** 9, 1000, 1])
def test_postings_read_back_as_written_whatever_their_widths_and_blocks(long):
    """Terms of 1, 127, 128, 129, 1,000 and 9,000 postings (one block, a block and one more, several),
    gaps up to 2 ** 31 and frequencies up to 65,535: the blocks' widths, from 0 bits to 31; and the
    same as flat lists (from 1,000 postings, or every term)."""
    rng = np.random.default_rng(18)
    counts = [1, 1, 127, 128, 129, 1000, 3, 256, 9000, 8300]
    docs, freqs = [], []
    tops = [1, 2 ** 31, 200, 10 ** 6, 130, 2 ** 20, 2 ** 31 - 1, 256, 2 ** 31, 9000]
    for n, top in zip(counts, tops):
        docs.append(np.sort(rng.choice(top, size=n, replace=False)) if n < top else np.arange(n))
        freqs.append(rng.integers(1, [2, 65536, 3, 2, 65536, 9, 1000, 2, 2, 300][len(freqs)], size=n))
    data, offsets = postingfile.encode(np.concatenate(docs), np.concatenate(freqs), counts, long)
    assert offsets[-1] == len(data) < 8 * sum(counts)  # packed: less than the flat records' bytes
    buf = np.concatenate([data, np.zeros(8, np.uint8)])
    for i, n in enumerate(counts):
        got_docs, got_freqs = postingfile.decode(buf, offsets[i:i + 1], [n], long)
        assert got_docs.tolist() == docs[i].tolist() and got_freqs.tolist() == freqs[i].tolist(), n
    both = postingfile.decode(buf, offsets[:-1], counts, long)  # several terms at once, as a merge reads them
    assert both[0].tolist() == np.concatenate(docs).tolist()
    assert both[1].tolist() == np.concatenate(freqs).tolist()
    some = [0, 2, 5, 8, 9]  # a folded term's readings: a few terms of a run, each apart
    apart = postingfile._decode_apart(buf, offsets[some], [counts[i] for i in some], long)
    assert [(d.tolist(), f.tolist()) for d, f in apart] == [(docs[i].tolist(), freqs[i].tolist()) for i in some]


def test_long_lists_are_flat_from_a_hundredth_of_the_archive_past_long():
    assert postingfile.long_list(2500) == postingfile.long_list(102_400) == postingfile.LONG
    assert postingfile.long_list(1_000_000) == 10_000


@pytest.mark.parametrize("shift", [0, 1])
def test_a_flat_list_reads_back_its_gaps_and_frequencies_either_side_of_a_byte_and_a_nibble(shift):
    """Gaps of 254, 255 and 256 and frequencies of 15, 16 and 17: where a flat list writes a value apart."""
    gaps = np.array([0, 254, 255, 256, 3, 2 ** 31 - 300, 255, 0]) + shift
    docs = np.cumsum(gaps + 1) - 1
    freqs = np.array([1, 15, 16, 17, 1, 65_535 - shift, 16, 2]) + shift  # at most 65,535: as a segment counts
    data = postingfile._encode_flat(docs, freqs)
    got_docs, got_freqs = postingfile._decode_flat(np.concatenate([data, np.zeros(8, np.uint8)]), 0, len(docs))
    assert got_docs.tolist() == docs.tolist() and got_freqs.tolist() == freqs.tolist()


def _syllables():
    """Syllables several of which fold alike ("lúa", "lua", "lùa"), as a folded field lists them."""
    return [f"{s}{i}" for i in range(40) for s in ("lúa", "lua", "lùa", "đảng", "dang", "ngô")]


def _random_part(rng, names, documents):
    """{name: [(article, frequency)]} of random postings over `documents` articles, some terms in every
    article (more than a block) and some in one."""
    part = {}
    for k, name in enumerate(names):
        n = documents if k % 17 == 0 else int(rng.integers(0 if k % 3 else 1, 4))
        chosen = np.sort(rng.choice(documents, size=min(n, documents), replace=False))
        if len(chosen):
            part[name] = [(int(d), int(f)) for d, f in zip(chosen, rng.integers(1, 5, size=len(chosen)))]
    return part


def _written(path, part, names, documents):
    field = postingfile.FieldPostings(named_by(names))
    for doc in range(documents):
        held = [(names.index(name), f) for name, postings in part.items() for d, f in postings if d == doc]
        field.add(doc, *np.array(held or np.zeros((0, 2)), dtype=np.int64).reshape(-1, 2).T)
    with open(path, "wb") as f:
        postingfile.write(f, {"text_syl": field}, documents=documents)
    return PostingFile(path)


def test_a_merge_of_many_files_in_many_steps_reads_back_as_a_plain_reference(tmp_path, monkeypatch):
    """Seven files (one of 300 articles: a term's postings span three blocks), merged in steps of a few
    terms, and merged again with an eighth: every term, and every folded term as the sum of the terms it
    folds, against postings kept in plain Python."""

    monkeypatch.setattr(postingfile, "MERGE_TERMS", 7)
    monkeypatch.setattr(postingfile, "LONG", 100)  # the terms in every article of the 300 or 130 are flat lists
    rng = np.random.default_rng(16)
    names = _syllables()
    sizes = [5, 300, 1, 40, 2, 9, 130, 11]
    parts, reference, offset = [], {}, 0
    for n, documents in enumerate(sizes):
        part = _random_part(rng, names, documents)
        parts.append((_written(tmp_path / f"{n}.vnp", part, names, documents), offset))
        for name, postings in part.items():
            reference.setdefault(name, []).extend((offset + d, f) for d, f in postings)
        offset += documents
    with open(tmp_path / "first.vnp", "wb") as f:
        postingfile.merge(f, parts[:-1], [str(n) for n in range(len(parts) - 1)])
    first = PostingFile(tmp_path / "first.vnp")
    with open(tmp_path / "all.vnp", "wb") as f:
        postingfile.merge(f, [(first, 0), parts[-1]], [str(n) for n in range(len(parts))])
    merged = PostingFile(tmp_path / "all.vnp")
    assert merged.documents == sum(sizes) and merged.segments == [str(n) for n in range(len(sizes))]
    assert merged.frequencies("text_syl") == {name: len(p) for name, p in reference.items()}
    for name, postings in reference.items():
        ids, freqs = _postings(merged, "text_syl", name)
        assert list(zip(ids.tolist(), freqs.tolist())) == postings, name
    folded = {}
    for name, postings in reference.items():
        for d, f in postings:
            folded.setdefault(fold(name), {}).setdefault(d, 0)
            folded[fold(name)][d] += f
    for name, postings in folded.items():
        ids, freqs = _postings(merged, "text_fold", name)
        assert list(zip(ids.tolist(), freqs.tolist())) == sorted(postings.items()), name
    assert _postings(merged, "text_fold", "lúa0") is None and _postings(merged, "text_syl", "lua9999") is None


def test_a_merge_that_drops_articles_renumbers_the_rest_and_forgets_terms_left_without_any(tmp_path, monkeypatch):
    """Compaction: the articles replaced since are left out, the others numbered again in order."""
    monkeypatch.setattr(postingfile, "MERGE_TERMS", 5)
    monkeypatch.setattr(postingfile, "LONG", 100)
    rng = np.random.default_rng(17)
    names = _syllables()
    parts, reference, offset = [], {}, 0
    for n, documents in enumerate([200, 3, 60]):
        part = _random_part(rng, names, documents)
        parts.append((_written(tmp_path / f"{n}.vnp", part, names, documents), offset))
        for name, postings in part.items():
            reference.setdefault(name, []).extend((offset + d, f) for d, f in postings)
        offset += documents
    dropped = set(rng.choice(offset, size=offset // 3, replace=False).tolist()) | {0, offset - 1}
    renumbered = np.cumsum([d not in dropped for d in range(offset)]) - 1
    renumbered[sorted(dropped)] = -1
    with open(tmp_path / "compact.vnp", "wb") as f:
        postingfile.merge(f, parts, ["one"], renumbered)
    compacted = PostingFile(tmp_path / "compact.vnp")
    expected = {name: [(int(renumbered[d]), f) for d, f in postings if d not in dropped]
                for name, postings in reference.items()}
    expected = {name: postings for name, postings in expected.items() if postings}
    assert len(expected) < len(reference)  # some terms were only in articles dropped
    assert compacted.documents == offset - len(dropped)
    assert compacted.frequencies("text_syl") == {name: len(p) for name, p in expected.items()}
    for name in reference:
        found = _postings(compacted, "text_syl", name)
        assert (list(zip(*[a.tolist() for a in found])) if found else []) == expected.get(name, []), name
