"""What a query matches (search.meaning): totals and facet counts a reader can trust.

Each test is an example a reader met on real articles: the archive below holds
the words they typed apart, in other readings, or together.
"""

import pytest

from search.engine import Engine
from search.request import SearchRequest
from search.snippets import highlight
from index.writer import index_articles
from tests.conftest import write_jsonl

ARTICLES = [
    {"id": "accident", "title": "Tai nạn trên cao tốc",
     "body": "Vụ tai nạn giao thông nghiêm trọng trên đường cao tốc ở Hà Nội."},
    {"id": "scattered", "title": "Tin sáng",
     "body": "Tài xế nói tại hiện trường không có nạn nhân. Bị cáo khai tốc độ xe rất nhanh."},
    {"id": "party", "title": "Chi bộ kết nạp", "body": "Chi bộ kết nạp đảng viên mới ở Hà Nội; ai cũng tuân thủ."},
    {"id": "busy", "title": "Tin chiều", "body": "Người đang viện dẫn số liệu về Hà Nội."},
    {"id": "football", "title": "Bóng đá", "body": "HAGL thắng, HA Gia Lai nói lời cảm ơn người hâm mộ."},
    {"id": "thuduc1", "title": "Thành ủy Thủ Đức", "body": "Thành ủy Thủ Đức họp bàn về đảng viên."},
    {"id": "thuduc2", "title": "Hội nghị", "body": "Đảng viên ở Thủ Đức học tập nghị quyết."},
    {"id": "thuduc3", "title": "Tin Thủ Đức", "body": "Người dân Thủ Đức đón Tết."},
    {"id": "crowd", "title": "Phố phường", "body": "Phố đông đúc, người dân tuân thủ luật giao thông."},
    {"id": "nation1", "title": "Đất nước", "body": "Đất nước phát triển mạnh mẽ."},
    {"id": "nation2", "title": "Quê hương", "body": "Đất nước hòa bình, nhân dân ấm no."},
    {"id": "datong", "title": "Triết học", "body": "Tư tưởng đại đồng của Khổng Tử."},
    {"id": "chewy", "title": "Sức khỏe", "body": "Bệnh dai dẳng, tốn nhiều tiền đồng."},
    {"id": "insurance", "title": "An sinh",
     "body": "Bảo hiểm y tế và các vấn đề xã hội khác được bàn tại hội nghị. " * 12
     + "Quỹ bảo hiểm xã hội tăng thu năm nay. " + "Hội nghị bàn tiếp về bảo hiểm. " * 12},
    {"id": "insurance2", "title": "Hội nghị", "body": "Hội nghị bàn về bảo hiểm y tế và an sinh xã hội."},
    {"id": "council", "title": "Họp", "body": "UBND tỉnh và HĐND tỉnh họp với MTTQ về CSGT và BHXH."},
    {"id": "palin", "title": "Thế giới", "body": "Sarah Palin phát biểu tại Alaska về kinh tế."},
    {"id": "provinces", "title": "Tin vùng", "body": "Lãnh đạo các tỉnh, thành phố họp trực tuyến."},
    {"id": "both", "title": "Tin vùng", "body": "Các tỉnh thành đều báo cáo số liệu."},
]


def engine_over(tmp_path_factory, articles):
    """An engine (without recent results) over a new index of `articles`."""
    path = tmp_path_factory.mktemp("meaning")
    index_articles([write_jsonl(path / "articles.jsonl", articles)], path / "index", workers=1)
    with Engine(path / "index", recent_results=0) as engine:
        yield engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    yield from engine_over(tmp_path_factory, ARTICLES)


def run(engine, q, **params):
    return engine.search(SearchRequest.from_params({"q": q, **params}))


def ids(result):
    return {h.id for h in result.hits}


def marks(html):
    import re

    return re.findall(r"<mark>(.*?)</mark>", html)


@pytest.mark.parametrize("q, expected", [
    ("tai nạn", {"accident"}),  # not "tại", "tài" ... "nạn nhân"
    ("cao tốc", {"accident"}),  # not "bị cáo" ... "tốc độ"
    ("đảng viên", {"party", "thuduc1", "thuduc2"}),
])
def test_a_compound_matches_where_its_syllables_stand_together(engine, q, expected):
    result = run(engine, q)
    assert ids(result) == expected and result.total == len(expected)


def test_punctuation_parts_a_compound(engine):
    assert ids(run(engine, "tỉnh thành")) == {"both"}  # not "các tỉnh, thành phố"
    result = run(engine, '"tỉnh, thành phố"')  # a phrase typed with its comma finds it as written
    assert ids(result) == {"provinces"} and marks(result.hits[0].snippet) == ["tỉnh, thành phố"]


def test_a_bare_syllable_beside_its_neighbour_is_kept_as_written(engine):
    result = run(engine, "tai nạn")
    assert result.reading is None  # "tai nạn" is in the archive as typed: nothing was read
    assert all(m.lower() == "tai nạn" for h in result.hits for m in marks(h.snippet) + marks(h.title_html))


def test_a_query_without_marks_matches_its_likeliest_reading(engine):
    result = run(engine, "dang vien")
    assert ids(result) == {"party", "thuduc1", "thuduc2"}  # not "đang viện"
    assert result.reading == "đảng viên" and result.alternative == {"exact": True}
    assert {m.lower() for h in result.hits for m in marks(h.snippet)} == {"đảng viên"}


def test_every_reading_on_request(engine):
    result = run(engine, "dang vien", exact="1")
    assert ids(result) == {"party", "thuduc1", "thuduc2", "busy"} and result.exact
    assert result.reading == "đảng viên" and result.alternative == {"exact": False}


def test_facet_counts_of_a_reading_are_those_of_the_word(engine):
    typed, meant = run(engine, "dang vien"), run(engine, "đảng viên")
    assert typed.total == meant.total
    assert [v.as_dict() | {"toggle_url": None} for v in typed.facets["region"]] == \
        [v.as_dict() | {"toggle_url": None} for v in meant.facets["region"]]


def test_a_place_typed_without_marks_is_not_a_football_club(engine):
    result = run(engine, "ha noi")
    assert result.reading == "hà nội"
    assert "football" not in ids(result) and {"accident", "party", "busy"} <= ids(result)


def test_a_partly_marked_compound_is_read_by_its_marked_half(engine):
    result = run(engine, "dai đồng")
    assert ids(result) == {"datong"} and result.reading == "đại đồng"


@pytest.mark.parametrize("q, expected", [
    ("đảng viên -Thủ Đức", {"party"}),  # "Thủ Đức" excluded, "Đức" not required
    ("đảng viên -thủ đức", {"party"}),  # lower case: pyvi leaves it apart, the archive knows the word
    ("đất nước -mạnh mẽ", {"nation2"}),
    ('đảng viên -"Thủ Đức"', {"party"}),
])
def test_exclusion_removes_the_word(engine, q, expected):
    assert ids(run(engine, q)) == expected


def test_a_wrong_mark_is_put_right_even_when_something_matched(engine):
    result = run(engine, "Thủ Đúc")
    assert result.total >= 1 and ids(result) == {"crowd"}  # "đông đúc ... tuân thủ", apart
    assert result.notices  # says the words were not found together
    assert result.suggestion == "thủ đức"


def test_a_spelling_the_archive_holds_is_not_respelled_for_a_somewhat_commoner_one(engine):
    assert run(engine, "đang viện").suggestion is None  # "đảng viên" is commoner, not far commoner


def test_abbreviations_are_part_of_what_an_article_must_hold(engine):
    result = run(engine, "UBND HĐND MTTQ CSGT BHXH")
    assert "council" in ids(result) and "palin" not in ids(result)


def test_a_phrase_is_marked_as_a_phrase_and_its_snippet_shows_it(engine):
    result = run(engine, '"bảo hiểm xã hội"')
    assert ids(result) == {"insurance"}
    assert [m.lower() for m in marks(result.hits[0].snippet)] == ["bảo hiểm xã hội"]


def test_the_article_page_marks_what_the_results_page_marks(engine):
    for q, article in [("HĐND tỉnh", "council"), ("dang vien", "party"), ('"bảo hiểm xã hội"', "insurance")]:
        fields = engine.article(article)
        text = fields["body"]
        snippet_marks = {m.lower() for h in run(engine, q).hits if h.id == article for m in marks(h.snippet)}
        page_marks = {m.lower() for m in marks(highlight(text, engine.highlighter(q)))}
        assert snippet_marks and snippet_marks <= page_marks, q


# ---------------------------------------------------------------- the page and the API


@pytest.fixture(scope="module")
def client(engine):
    from webui.app import create_app

    return create_app({"INDEX_DIR": str(engine.index_dir), "TESTING": True}).test_client()


def page_of(client, q, **params):
    response = client.get("/search", query_string={"q": q, **params})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def listed(html):
    import re
    from urllib.parse import unquote

    return {unquote(m) for m in re.findall(r'class="hit-title"[^>]*><a href="/article/([^"?]+)', html)}


def text_of(html):
    import re
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("q, expected", [
    ("tai nạn", {"accident"}), ("cao tốc", {"accident"}), ("dang vien", {"party", "thuduc1", "thuduc2"}),
    ("đất nước -mạnh mẽ", {"nation2"}), ("đảng viên -Thủ Đức", {"party"}), ('"bảo hiểm xã hội"', {"insurance"}),
])
def test_the_page_lists_what_the_words_match(client, q, expected):
    html = page_of(client, q)
    assert listed(html) == expected and f"{len(expected)} kết quả" in text_of(html)


def test_the_page_says_how_it_read_the_query_and_offers_every_reading(client):
    html = page_of(client, "dang vien")
    assert "Kết quả cho đảng viên · Tìm chính xác: dang vien" in text_of(html)
    exact = page_of(client, "dang vien", exact="1")
    assert "busy" in listed(exact) and "Tìm theo cách đọc: đảng viên" in text_of(exact)
    assert 'href="/search?q=dang+vien&amp;exact=1"' in html


def test_the_api_carries_the_reading_and_the_alternative(client):
    body = client.get("/api/search", query_string={"q": "ha noi"}).get_json()
    assert body["reading"] == "hà nội" and body["alternative"] == {"exact": True} and body["exact"] is False
    assert "football" not in {h["id"] for h in body["hits"]}


def test_the_page_offers_a_respelling_beside_thin_results(client):
    html = page_of(client, "Thủ Đúc")
    assert listed(html) == {"crowd"} and "Có phải bạn muốn tìm: thủ đức ?" in text_of(html)


def test_a_quoted_query_is_shown_with_its_own_quotes_once(client):
    html = page_of(client, '"bảo hiểm xã hội"')
    assert 'Kết quả tìm kiếm cho "bảo hiểm xã hội"' in text_of(html)
    assert '<q class="query-echo">' not in html


def test_the_article_page_marks_an_abbreviation_and_its_neighbour(client):
    html = client.get("/article/council", query_string={"q": "HĐND tỉnh"}).get_data(as_text=True)
    assert "HĐND tỉnh" in marks(html)


# ---------------------------------------------------------------- reading by neighbours

NEIGHBOURS = [
    {"id": "gold1", "title": "Giá vàng hôm nay", "body": "Giá vàng tăng mạnh; giá vàng thế giới cũng tăng."},
    {"id": "gold2", "title": "Thị trường", "body": "Nhà đầu tư theo dõi giá vàng và giá đô la."},
    {"id": "family", "title": "Gia đình", "body": "Gia đình ông có bộ vàng mã cũ; quốc gia nào cũng vậy."},
    {"id": "family2", "title": "Quốc gia", "body": "Các gia đình trong quốc gia được hỗ trợ. Gia tộc lớn."},
    {"id": "family3", "title": "Gia tộc", "body": "Gia tộc họ Nguyễn và gia phả của quốc gia."},
    {"id": "pupil1", "title": "Học sinh giỏi", "body": "Học sinh giỏi cấp tỉnh nhận thưởng."},
    {"id": "pupil2", "title": "Thế giới", "body": "Học sinh khắp thế giới, giới trẻ và giới chuyên môn."},
    {"id": "world", "title": "Thế giới", "body": "Tin thế giới: giới đầu tư, giới trẻ, biên giới."},
    {"id": "glued", "title": "Bản tin", "body": "tin quốc gia thế giới hôm nay"},  # pyvi glues the four
    *({"id": f"nation{i}", "title": "Quốc gia", "body": f"Quốc gia thứ {i} cần hòa bình. Thế giới đổi thay."}
      for i in range(24)),
    {"id": "militia", "title": "Dân quân", "body": "Lực lượng dân quân tự vệ luyện tập."},
    {"id": "concern1", "title": "Giá cả", "body": "Người dân quan tâm đến giá điện."},
    {"id": "concern2", "title": "Giá xăng", "body": "Nhiều người dân quan tâm giá xăng."},
    {"id": "actress", "title": "Điện ảnh", "body": "Ngô Thanh Vân đóng phim mới."},
    {"id": "corn", "title": "Nông nghiệp", "body": "Ngô được mùa; chị Thanh bán hàng ở Vân Nam."},
]


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory):
    yield from engine_over(tmp_path_factory, NEIGHBOURS)


def test_two_syllables_that_stand_together_are_read_together(neighbours):
    result = run(neighbours, "gia vang")  # pyvi leaves "giá vàng" apart; the archive has it side by side
    assert result.reading == "giá vàng" and ids(result) == {"gold1", "gold2"}


def test_a_syllable_alone_is_read_by_the_word_beside_it(neighbours):
    result = run(neighbours, "hoc sinh gioi")  # "giới" is commoner, "giỏi" stands beside "sinh"
    assert result.reading == "học sinh giỏi" and ids(result) == {"pupil1"}


def test_two_syllables_that_only_share_articles_stay_apart(neighbours):
    result = run(neighbours, "vang gia")  # "vàng" and "gia" share articles, never side by side
    assert "family" in ids(result) and not result.notices


def test_words_pyvi_glues_in_a_lower_case_query_are_matched_apart(neighbours):
    result = run(neighbours, "quốc gia thế giới")  # pyvi: one word; together in one article of 25 holding them
    assert result.total == 25 and "glued" in {h.id for h in run(neighbours, "quốc gia thế giới", limit="50").hits}


def test_a_name_pyvi_cuts_in_lower_case_is_matched_whole(neighbours):
    assert ids(run(neighbours, "ngô thanh vân")) == {"actress"}


def test_a_spelling_that_stands_only_across_two_words_is_not_kept(neighbours):
    result = run(neighbours, "dân quan")  # "người dân quan tâm": "dân" ends one word, "quan" begins the next
    assert result.reading == "dân quân" and ids(result) == {"militia"}


def test_the_vocabulary_reads_every_word_under_its_folded_form_as_fold_has_it():
    """What a query typed without marks may stand for: every word of the archive under `fold` of it, whatever
    its characters (marks, đ and a lookalike of it, a mark standing alone that folds to nothing, a Korean
    syllable that folds to its letters), the most frequent first, then by spelling; a word in titles and
    texts counted by its larger count."""
    from index.analysis.normalize import fold
    from search.vocabulary import Vocabulary

    text = {"đảng_viên": 5, "đang_viên": 2, "dang_vien": 2, "i\u0307stanbul": 1, "서울": 3, "Ðà_nẵng": 1,
            "đà_nẵng": 4, "hoà": 2}
    title = {"đảng_viên": 7, "istanbul": 1, "đà_nẵng": 1, "hòa": 2, "서울": 1}
    fields = {"text": text, "title": title, "text_syl": {"đảng": 3, "đang": 3, "dang": 1}, "title_syl": {"đảng": 4}}
    vocabulary = Vocabulary(lambda field: fields.get(field, {}))
    expected = {}
    for word in {**text, **title}:
        expected.setdefault(fold(word), []).append((word, max(text.get(word, 0), title.get(word, 0))))
    for forms in expected.values():
        forms.sort(key=lambda form: (-form[1], form[0]))
    assert [(key, list(forms)) for key, forms in vocabulary.words.items()] == list(expected.items())
    assert list(vocabulary.words["istanbul"]) == [("istanbul", 1), ("i\u0307stanbul", 1)]
    assert list(vocabulary.syllables["dang"]) == [("đảng", 4), ("đang", 3), ("dang", 1)]
