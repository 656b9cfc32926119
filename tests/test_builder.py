"""The fast segment builder must write what Whoosh's own add_document writes, posting for posting.

The text fields' postings are in the segment's posting file instead (tests/test_postingfile.py), and
the stored fields in its stored-fields file (tests/test_stored.py): read back, they are Whoosh's.
"""

from whoosh import index as whoosh_index

from index.analysis import analyzers
from index.analysis.analyzers import FoldedAnalyzer, FoldedPairAnalyzer, PairAnalyzer, SyllableAnalyzer, WordAnalyzer, terms
from index.sources import articles
from index.store import builder
from index.store.stored import StoredFields
from index.store.schema import make_schema
from index.writer import analyse, document
from tests.conftest import SEEDS, write_jsonl

TRICKY = [
    "Đảng bộ TP. Thủ Đức có 24.317 đảng viên; Thành uỷ giữ gìn hoà bình (21-KL/TW).",
    "Hòa hoà HOÀ thuỷ thủy... ==> http://vnexpress.net/a?b=1 ông@ví.dụ 3,5% ThS. Mr. Nguyễn",
    "đảng\x00viên \u200bnông dân\n\nlúa lúa lúa gạo gạo, gạo!",
    "",
    "?!... --",
    "Lúa lụa lừa lưa lua, đá da dạ dã; lúa lụa lúa.",  # several syllables fold into one term
]


def _articles(tmp_path):
    records = [{"id": f"t{i}", "title": text[:40], "sapo": text[:10], "body": text} for i, text in enumerate(TRICKY)]
    records.append({"id": "long", "title": "Lúa gạo", "body": "Lúa gạo lúa gạo " * 200})  # positions over 255
    # terms in more documents than a posting block holds (128), some documents without a title or a body
    records += [{"id": f"n{i}", "title": f"Tin {i}" if i % 3 else "", "body": f"Nông dân thu hoạch lúa vụ {i}."}
                for i in range(300)]
    found = list(articles.read([SEEDS, write_jsonl(tmp_path / "r.jsonl", records)]))
    return [a for a in found if isinstance(a, articles.Article)]


def _dump(ix, ours):
    """Everything a search can read back: every posting of the fields Whoosh holds with its bytes, term
    statistics, lengths, and the stored fields (`ours`: from the stored-fields file, else Whoosh's)."""
    with ix.reader() as r:
        stored_fields = StoredFields(r).fields if ours else r.stored_fields
        postings = {}
        for field, btext in r.all_terms():
            if field in builder.SOURCES:
                continue
            m = r.postings(field, btext)
            found = []
            while m.is_active():
                found.append((m.id(), m.weight(), m.value()))
                m.next()
            info = r.term_info(field, btext)
            postings[field, btext] = (found, info.weight(), info.doc_frequency(), info.min_length(),
                                      info.max_length(), info.max_weight())
        docs = [(stored_fields(n), {f: r.doc_field_length(n, f) for f in r.schema.scorable_names()})
                for n in r.all_doc_ids()]
        columns = {f: list(r.column_reader(f, translate=False)) for f in r.schema.names() if r.schema[f].column_type}
        totals = {f: r.field_length(f) for f in r.schema.scorable_names()}
    return postings, docs, columns, totals


def reference_index(tmp_path, analysed):
    """`analysed` written by Whoosh's own add_document into tmp_path/whoosh (no posting file)."""
    (tmp_path / "whoosh").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "whoosh"), make_schema())
    writer = ix.writer()
    for item in analysed:
        writer.add_document(**document(item))
    writer.commit()
    return ix


def built_index(tmp_path, analysed):
    """(index, ids): `analysed` written by the builder as one segment into tmp_path/ours, and committed."""
    (tmp_path / "ours").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "ours"), make_schema())
    segment, ids = builder.build(ix, analysed, document)
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc([segment])
    writer._finish()
    return ix, ids


def test_a_built_segment_holds_exactly_what_add_document_writes(tmp_path):
    analysed = analyse(_articles(tmp_path))
    reference = reference_index(tmp_path, analysed)
    _, ids = built_index(tmp_path, analysed)
    assert ids == [item.article.id for item in analysed]
    assert _dump(whoosh_index.open_dir(str(tmp_path / "ours")), ours=True) == _dump(reference, ours=False)


def test_stored_fields_are_written_once(tmp_path):
    """In the stored-fields file only: Whoosh's own stored column holds nothing."""
    analysed = analyse(_articles(tmp_path))
    ix, _ = built_index(tmp_path, analysed)
    with ix.reader() as r:
        assert all(r.stored_fields(n) == {} for n in r.all_doc_ids())
        assert StoredFields(r).fields(0)["id"] == analysed[0].article.id


def _whoosh_write_term(fields, btext, postings, lengths):
    fields.start_term(btext)
    for docnum, weight, value in postings:
        fields.add(docnum, weight, value, lengths[docnum] if lengths else 0)
    fields.finish_term()


def test_terms_are_written_in_the_bytes_whooshs_postings_writer_writes(tmp_path, monkeypatch):
    """Byte for byte, given the same postings."""
    analysed = analyse(_articles(tmp_path))
    files = []
    for name, write_term in (("ours", builder._write_term), ("whoosh", _whoosh_write_term)):
        monkeypatch.setattr(builder, "_write_term", write_term)
        (tmp_path / name).mkdir()
        ix = whoosh_index.create_in(str(tmp_path / name), make_schema())
        segment, _ = builder.build(ix, analysed, document)
        files.append(_files(ix.storage, segment))
    assert files[0] == files[1]


def _files(storage, segment):
    """The bytes of the segment's term index and postings files."""
    return {ext: storage.open_file(segment.make_filename(ext)).read() for ext in (".trm", ".pst")}


def test_index_terms_are_the_analyzers_terms():
    for text in TRICKY:
        from index.analysis import segmenter

        words, syllables, joins = analyzers.index_terms(text, segmenter.words(text))
        assert words == terms(WordAnalyzer(), text)
        assert syllables == terms(SyllableAnalyzer(), text)
        assert [analyzers.folded_term(t) for t in syllables] == terms(FoldedAnalyzer(), text)
        pairs = [f"{a} {b}" for a, b, joined in zip(syllables, syllables[1:], joins[1:]) if joined]
        assert pairs == terms(PairAnalyzer(), text)
        assert [analyzers.folded_term(p) for p in pairs] == terms(FoldedPairAnalyzer(), text)


def test_an_empty_builder_writes_no_segment(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    assert builder.build(ix, [], document) == (None, [])
