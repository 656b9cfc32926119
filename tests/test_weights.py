"""Each tuned number of the search, guarded: what a reader sees with it, and that it changes without it.

Every test asserts the outcome with the number as tuned, then sets the number to 0 (TITLE_WEIGHT to 1,
a title counted as text) on its module and asserts the outcome changes, so the test is shown to depend
on it. Each search opens a fresh Engine: BM25 scores and results are kept per commit. The values and
where they came from: benchmarks/RESULTS.md, "The tuned numbers".
"""

import pytest

from index.writer import index_articles
from search import meaning, postings, ranking, vocabulary
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import write_jsonl

FILLERS = [f"f{i}" for i in range(8)]


def filler(sentence, count=8):
    """`count` articles of `sentence` with a year in it: common words, so that idf tells the others apart."""
    return [{"id": f"f{i}", "title": "Tin", "body": sentence.format(year=1900 + i)} for i in range(count)]


def index_of(tmp_path_factory, name, records):
    path = tmp_path_factory.mktemp(name)
    index_articles([write_jsonl(path / "articles.jsonl", records)], path / "index", workers=1)
    return path / "index"


def search(index_dir, q, **params):
    with Engine(index_dir, recent_results=0) as engine:
        return engine.search(SearchRequest.from_params({"q": q, **params}))


def ids(index_dir, q, **params):
    return [h.id for h in search(index_dir, q, **params).hits]


@pytest.fixture(scope="module")
def readings(tmp_path_factory):
    """"dang" stands for "đảng" in most articles: the archive reads it so."""
    return index_of(tmp_path_factory, "readings", filler("Năm {year} đảng bộ họp bàn việc làng.") + [
        {"id": "once", "title": "Tin", "body": "Ông ấy đang đi làm việc ở xa nhà mình."},
        {"id": "thrice", "title": "Tin", "body": "Ông ấy đang đi làm, đang đi, đang về."},
        {"id": "literal", "title": "Tin", "body": "Ông Dang Van Ngoc đi làm việc ở xa nhà."},
    ])


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory):
    """Syllables of a query standing together, as its word or not, or apart."""
    return index_of(tmp_path_factory, "neighbours", filler("Năm {year} có nhiều người ở lại làng.") + [
        {"id": "apart", "title": "Tin",
         "body": "Đại học sinh ra nhiều chuyện; học trò và sinh viên đều học, sinh hoạt."},
        {"id": "word", "title": "Tin", "body": "Các học sinh đến trường sớm hôm nay vì có lễ lớn."},
        {"id": "cat_apart", "title": "Tin", "body": "Con mèo nằm trên ghế đen trong nhà ông."},
        {"id": "cat_together", "title": "Tin", "body": "Con mèo đen nằm trên ghế trong nhà ông."},
        {"id": "dv_apart", "title": "Tin",
         "body": "Đảng bộ có viên chức đang viện dẫn; đảng và viên, đang viện lý do."},
        {"id": "dv", "title": "Tin", "body": "Chi bộ kết nạp đảng viên mới trong năm."},
    ])


@pytest.fixture(scope="module")
def bm25(tmp_path_factory):
    """A name in a title or in the text, said once or thrice, in a short article or a long one."""
    return index_of(tmp_path_factory, "bm25", filler("Năm {year} có nhiều người ở lại làng.") + [
        {"id": "text", "title": "Tin", "body": "Hôm nay ông Tesla nói về Tesla với khách ở nhà."},
        {"id": "title", "title": "Tesla", "body": "Hôm nay ông ấy nói về xe điện với khách ở nhà."},
        {"id": "nothing", "title": "Tin", "body": "Trời mưa to suốt đêm qua ở miền núi."},
        {"id": "once", "title": "Tin", "body": "Cây Baobab mọc ở châu Phi, nơi trời nắng nóng quanh năm dài."},
        {"id": "thrice", "title": "Tin", "body": "Baobab, Baobab và Baobab mọc ở châu Phi, trời nắng quanh năm."},
        {"id": "short", "title": "Tin", "body": "Cây Kapok mọc ở đây."},
        {"id": "long", "title": "Tin", "body": "Cây Kapok mọc ở châu Phi; người ta kể rằng ở nơi ấy trời nắng "
         "nóng quanh năm, mưa ít, gió nhiều, đất khô, làng xa, đường dài, chợ vắng, và Kapok cho bóng mát suốt "
         "mùa hè, mùa thu, mùa đông và cả mùa xuân nữa."},
    ])


# (index, query, its parameters, the order of the hits, the number, the order with the number at 0)
ORDERS = [
    # «Tìm chính xác: dang» (every reading): among the "đang" articles, it said thrice beats it said once
    pytest.param("readings", "dang", {"exact": "1", "limit": "20"},
                 ["literal", *FILLERS, "thrice", "once"], (ranking, "FOLDED", 0),
                 ["literal", *FILLERS, "once", "thrice"], id="FOLDED"),
    # ... "dang" typed, the name "Dang" written so ranks first
    pytest.param("readings", "dang", {"exact": "1", "limit": "20"},
                 ["literal", *FILLERS, "thrice", "once"], (ranking, "FOLDED_LITERAL", 0),
                 [*FILLERS, "thrice", "once", "literal"], id="FOLDED_LITERAL"),
    # ... "dang" as the archive most often writes it, "đảng", before other readings
    pytest.param("readings", "dang", {"exact": "1", "limit": "20"},
                 ["literal", *FILLERS, "thrice", "once"], (ranking, "READING", 0),
                 ["literal", "thrice", *FILLERS, "once"], id="READING"),
    # "học sinh": the pupils beat "đại học sinh ra ... sinh viên" (the syllables together, not the word)
    pytest.param("neighbours", "học sinh", {}, ["word", "apart"], (ranking, "WORD", 0), ["apart", "word"],
                 id="WORD"),
    # "mèo đen": the black cat beats a cat on a black chair
    pytest.param("neighbours", "mèo đen", {}, ["cat_together", "cat_apart"], (ranking, "PAIR", 0),
                 ["cat_apart", "cat_together"], id="PAIR"),
    # «Tìm chính xác: dang vien»: "đảng viên" beats "đảng", "viên" apart and "đang viện"
    pytest.param("neighbours", "dang vien", {"exact": "1"}, ["dv", "dv_apart"], (ranking, "READING_PAIR", 0),
                 ["dv_apart", "dv"], id="READING_PAIR"),
    # a name in the title beats it said twice in the text
    pytest.param("bm25", "Tesla", {}, ["title", "text"], (postings, "TITLE_WEIGHT", 1), ["text", "title"],
                 id="TITLE_WEIGHT"),
    # an article that says a rare word thrice beats one that says it once (at 0 they tie: the first indexed first)
    pytest.param("bm25", "Baobab", {}, ["thrice", "once"], (postings, "K1", 0), ["once", "thrice"], id="K1"),
    # a short article beats a long one that says the word twice
    pytest.param("bm25", "Kapok", {}, ["short", "long"], (postings, "B", 0), ["long", "short"], id="B"),
]


# K1 at 0 makes BM25 0/0 where a term is absent: numpy says so, the test only looks at the order
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
@pytest.mark.parametrize("index, q, params, order, number, order_without", ORDERS)
def test_the_order_of_the_hits_depends_on_the_number(request, monkeypatch, index, q, params, order, number,
                                                     order_without):
    index_dir = request.getfixturevalue(index)
    assert ids(index_dir, q, **params) == order
    monkeypatch.setattr(*number)
    assert ids(index_dir, q, **params) == order_without


def test_vocabulary_readings_a_bare_syllable_is_read_as_the_archive_writes_it(readings, monkeypatch):
    """"dang" is read as "đảng", the accented form most articles hold, and finds them."""
    result = search(readings, "dang")
    assert result.reading == "đảng" and [h.id for h in result.hits] == FILLERS
    monkeypatch.setattr(vocabulary, "READINGS", 0)  # no accented form tried: "dang" only as written
    result = search(readings, "dang")
    assert result.reading is None and [h.id for h in result.hits] == ["literal"]


def test_nearly_a_far_rarer_reading_is_not_matched(readings, monkeypatch):
    """"dang" matches the eight "đảng" articles, not the two "đang" ones nor the name "Dang"."""
    assert search(readings, "dang", limit="20").total == 8
    monkeypatch.setattr(meaning, "NEARLY", 0)
    assert search(readings, "dang", limit="20").total == 11


@pytest.fixture(scope="module")
def partly_marked(tmp_path_factory):
    return index_of(tmp_path_factory, "partly-marked", filler("Năm {year} người ta dự hội thảo khoa học.", 11) + [
        {"id": "literal", "title": "Tin", "body": "Đoàn tham gia hội thao quân đội."},
    ])


def test_literal_share_a_bare_syllable_rarely_written_so_is_read(partly_marked, monkeypatch):
    """"hội thao": the word "hội thao" stands in one article, "hội thảo" in eleven: read as "hội thảo"."""
    result = search(partly_marked, "hội thao", limit="20")
    assert result.reading == "hội thảo" and result.total == 11 and "literal" not in {h.id for h in result.hits}
    monkeypatch.setattr(meaning, "LITERAL_SHARE", 0)
    assert ids(partly_marked, "hội thao", limit="20") == ["literal"]


def test_min_share_a_question_matches_only_articles_holding_some_of_it(bm25, monkeypatch):
    result = search(bm25, "Tesla nói chuyện với ai vậy", limit="100")
    assert result.total == 2 and {h.id for h in result.hits} == {"text", "title"}
    monkeypatch.setattr(ranking, "MIN_SHARE", 0)
    result = search(bm25, "Tesla nói chuyện với ai vậy", limit="100")
    assert result.total > 2 and "nothing" in {h.id for h in result.hits}
