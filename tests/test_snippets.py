from search.query import parse
from search.snippets import Highlighter, highlight, snippet


def marked(query, text):
    return highlight(text, Highlighter.for_syllables(parse(query).all_syllables()))


def test_a_query_with_marks_highlights_only_that_spelling():
    assert marked("đảng viên", "Đảng viên đang học") == "<mark>Đảng viên</mark> đang học"


def test_a_query_without_marks_highlights_every_spelling():
    assert marked("dang", "Đảng viên đang học, dáng đẹp") == \
        "<mark>Đảng</mark> viên <mark>đang</mark> học, <mark>dáng</mark> đẹp"


def test_old_tone_placement_is_highlighted_as_the_new():
    assert marked("hòa bình", "Giữ gìn hoà bình") == "Giữ gìn <mark>hoà bình</mark>"


def test_only_whole_syllables_are_highlighted():
    assert marked("an", "Bình An, bản án, an toàn, Anh, khoan") == \
        "Bình <mark>An</mark>, bản <mark>án</mark>, <mark>an</mark> toàn, Anh, khoan"


def test_abbreviation_dot_stays_outside_the_mark():
    assert marked("tp", "TP. Hồ Chí Minh") == "<mark>TP</mark>. Hồ Chí Minh"


def test_snippet_opens_where_the_query_words_stand_together():
    text = "Mở đầu không liên quan. " * 40 + "Chi bộ kết nạp đảng viên mới ở Thủ Đức. " + "Đoạn cuối. " * 40
    html = snippet(text, Highlighter.for_syllables(parse("đảng viên thủ đức").all_syllables()))
    assert html.startswith("… ") and "<mark>đảng viên</mark>" in html and "<mark>Thủ Đức</mark>" in html
    assert len(html) < 400


def test_snippet_escapes_the_text_around_marks():
    html = snippet("<b>đảng viên</b> & <script>", Highlighter.for_syllables(parse("đảng").all_syllables()))
    assert html == "&lt;b&gt;<mark>đảng</mark> viên&lt;/b&gt; &amp; &lt;script&gt;"
