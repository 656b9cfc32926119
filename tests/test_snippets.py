from dataclasses import replace

from search.query import parse
from search.snippets import Highlighter, highlight, snippet


def syllables(query):
    """Each syllable of `query` marked alone, wherever it stands."""
    return Highlighter.of([(s,) for s in parse(query).words])


def marked(query, text, highlighter=None):
    return highlight(text, highlighter or syllables(query))


def together(query):
    """The syllables of `query` marked only where they stand side by side (a compound, a phrase)."""
    return Highlighter.of([tuple(parse(query).words)])


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
    html = snippet(text, syllables("đảng viên thủ đức"))
    assert html.startswith("… ") and "<mark>đảng viên</mark>" in html and "<mark>Thủ Đức</mark>" in html
    assert len(html) < 400


def test_a_long_articles_snippet_is_found_in_its_first_characters(monkeypatch):
    """SCANNED: the words far into a long article are not looked for (nor shown unmarked): its snippet opens at
    the start when they are only there, and where they are when they are within the first characters too."""
    from search import snippets

    filler = "Đoạn mở đầu không liên quan gì. " * 20  # 640 characters
    late = filler + "Chi bộ kết nạp đảng viên mới."
    assert snippet(late, syllables("đảng viên")).count("<mark>") == 1
    monkeypatch.setattr(snippets, "SCANNED", 600)
    html = snippet(late, syllables("đảng viên"))
    assert html.startswith("Đoạn mở đầu") and "<mark>" not in html and "đảng" not in html
    both = "Mở đầu. Đảng viên họp. " + filler + "Chi bộ kết nạp đảng viên mới."
    assert "<mark>Đảng viên</mark> họp" in snippet(both, syllables("đảng viên"))
    unspaced = "đảng," + "x" * 700  # no space within the first characters: cut at SCANNED, not to nothing
    assert snippet(unspaced, syllables("đảng")).startswith("<mark>đảng</mark>")


def test_snippet_escapes_the_text_around_marks():
    html = snippet("<b>đảng viên</b> & <script>", syllables("đảng"))
    assert html == "&lt;b&gt;<mark>đảng</mark> viên&lt;/b&gt; &amp; &lt;script&gt;"


def test_a_compound_is_marked_where_its_syllables_stand_together_only():
    text = "Đảng bộ kết nạp đảng viên; viên chức dự."
    assert marked("", text, together("đảng viên")) == "Đảng bộ kết nạp <mark>đảng viên</mark>; viên chức dự."


def test_a_compound_split_by_punctuation_is_not_marked():
    assert marked("", "Tai nạn. Nạn nhân, tai họa", together("tai nạn")) == "Tai nạn. Nạn nhân, tai họa".replace(
        "Tai nạn", "<mark>Tai nạn</mark>")
    assert marked("", "tai, nạn", together("tai nạn")) == "tai, nạn"


def test_a_phrase_snippet_opens_where_the_phrase_stands():
    text = ("Bảo hiểm y tế và các vấn đề xã hội khác. " * 30 + "Quỹ bảo hiểm xã hội tăng thu. "
            + "Hội nghị bàn về bảo hiểm. " * 30)
    html = snippet(text, together("bảo hiểm xã hội"))
    assert "<mark>bảo hiểm xã hội</mark>" in html
    assert html.count("<mark>") == 1  # lone "bảo hiểm", "xã hội" and "hội" stay unmarked


def test_a_syllable_typed_bare_as_written_marks_that_spelling_only():
    tai = Highlighter.of([(replace(parse("tai").words[0], accented=True), parse("nạn").words[0])])
    assert marked("", "tai nạn, tài nạn, tại nạn", tai) == "<mark>tai nạn</mark>, tài nạn, tại nạn"


def test_letters_with_any_mark_or_case_are_found_as_the_plain_letters_they_stand_for():
    """A query's plain letters are looked for in the text with each character written as the plain letter it
    stands for: every character of Unicode that a letter's pattern (any mark, any case) matches, and no
    other, stands for that letter; each is itself a letter or digit, so whole words stay whole; none lies
    past the table."""
    import re
    import sys

    import numpy as np

    from search.snippets import _PLAIN, _TABLE, _any_marks, _plain_letters

    table = _plain_letters()
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    for letter in sorted(_PLAIN):
        found = [m.start() for m in re.finditer(_any_marks(letter), every, re.IGNORECASE)]
        assert max(found) < _TABLE and all(re.fullmatch(r"\w", chr(n)) for n in found)
        assert np.flatnonzero(table == ord(letter)).tolist() == found
    assert marked("kem", "KEM, Kem và \u212aem, \u1ebfm, kém-kem") == \
        "<mark>KEM</mark>, <mark>Kem</mark> và <mark>\u212aem</mark>, \u1ebfm, <mark>kém</mark>-<mark>kem</mark>"


def test_a_query_with_a_letter_not_plain_is_marked_too():
    assert marked("straße", "Die Straße, STRASSE") == "Die <mark>Straße</mark>, STRASSE"
