"""Reading an article saved as raw page text: title, date, source, author, clean body.

Saved news pages carry their metadata in the text itself, around the article:
a category line or the site's banner date above the title, a date line under
it, the newspaper's tag at the start of the lead ("(BĐ) - "), photo captions,
the author's byline at the end, then the site's furniture ("Ý kiến bạn đọc",
"Tin khác" ...). This module takes a page apart line by line.
"""

import re
from dataclasses import dataclass

from index.sources.dates import event_date, find_date

# Lines from which on the rest of the page is site furniture, not article.
_END_MARKERS = re.compile(
    r"^(?:ý kiến bạn đọc|tin khác|các tin khác|tin cùng chuyên mục|tin liên quan|bài liên quan"
    r"|xem thêm\b.*|<\s*trở về trang trước|trở về trang trước|gửi bình luận của bạn|viết bình luận mới"
    r"|tổng lượt bình luận|bình luận|chia sẻ bài viết|tin mới nhất|đọc nhiều nhất)\s*:?$",
    re.IGNORECASE,
)
_JUNK = re.compile(r"^(?:[\W_]+|refresh|in bài viết|chia sẻ|bản in|print|top)$", re.IGNORECASE)
_CAPTION_CREDIT = re.compile(r"[.\s]\(?\s*(?:Ảnh|Ảnh minh họa|Ảnh minh hoạ|Nguồn|Clip|Video)\s*:\s*[^.]{1,60}\)?\s*$", re.IGNORECASE)
_SOURCE_TAG = re.compile(
    r"^\(\s*(?P<p>[^()\s][^()]{0,30}?)\s*\)\s*[-–—:]?\s*"
    r"|^(?P<b>[A-ZĐ][A-ZĐ0-9.]{1,14})\s*[-–—]\s+"
)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)\]]\s*$")
_NAME_WORD = re.compile(r"^(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\.?)+$")


@dataclass
class RawArticle:
    title: str
    lead: str
    body: str
    date: object = None
    source: str = None
    author: str = None


def _lines(text):
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _is_date_line(line):
    """A line that is a date and little else (a banner, a dateline, "Cập nhật ngày: ...")."""
    found = find_date(line)
    if not found:
        return None
    rest = re.sub(r"[\d/:.,|()+\-]|GMT|thứ\s+\w+|chủ nhật|ngày|tháng|năm|cập nhật|đăng|lúc|giờ", " ", line,
                  flags=re.IGNORECASE)
    return found if len(rest.split()) <= 2 else None


def _is_category(line, following):
    """A short label above the title ("Chính trị"), not a headline."""
    words = line.split()
    return len(words) <= 3 and len(line) <= 30 and not _SENTENCE_END.search(line) and following \
        and len(following.split()) > len(words)


def _is_author(line):
    """A byline: a few capitalised words ("Đình Quân", "BẢO TOÀN", "H.NHUNG")."""
    words = line.split()
    return 1 <= len(words) <= 5 and len(line) <= 40 and all(_NAME_WORD.match(w) for w in words)


def _is_caption(line):
    """A photo caption: no sentence ending, or ending in a photo credit ("... Ảnh: H.P")."""
    return bool(_CAPTION_CREDIT.search(line)) or (len(line.split()) > 4 and not _SENTENCE_END.search(line))


def source_tag(lead):
    """The newspaper's tag a lead opens with, and the lead without it: "(BĐ) - Sáng ..." -> "BĐ"."""
    m = _SOURCE_TAG.match(lead)
    if not m:
        return None, lead
    return (m["p"] or m["b"]).strip(), lead[m.end():]


def parse(text):
    """Take a saved page apart; raises ValueError when it holds no article text."""
    lines = [line for line in _lines(text)]
    content = [line for line in lines if line and not _JUNK.match(line)]
    end = next((i for i, line in enumerate(content) if _END_MARKERS.match(line)), len(content))
    content = content[:end]

    banner = date = None
    i = 0
    while i < len(content):  # above the title: category labels and banner dates
        line = content[i]
        found = _is_date_line(line)
        if found:
            banner = found
        elif not _is_category(line, content[i + 1] if i + 1 < len(content) else ""):
            break
        i += 1
    if i >= len(content):
        raise ValueError("no article text (only a date or labels)")
    title = content[i]
    rest = content[i + 1:]

    if rest and _is_date_line(rest[0]):
        date = _is_date_line(rest[0])
        rest = rest[1:]

    author = None
    if rest and _is_author(rest[-1]):
        author = rest.pop()

    paragraphs = []
    source = None
    for line in rest:
        tag, without = source_tag(line) if source is None and not paragraphs else (None, line)
        if tag:
            source = tag
            paragraphs.append(without)
        elif _is_caption(line):
            continue
        else:
            paragraphs.append(line)

    lead = paragraphs[0] if paragraphs else ""
    if date is None and banner is not None:
        date = event_date(lead, banner)
    return RawArticle(title=title, lead=lead, body="\n\n".join(paragraphs[1:]), date=date, source=source,
                      author=author)
