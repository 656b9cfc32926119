import gzip
import json
from datetime import timedelta

import pytest

from index.sources.articles import FieldMap, Problem, read
from tests.conftest import SEEDS, write_jsonl

EXPECTED = {
    "000_abc709b6f580d3e9": ("Tăng cường công tác chính trị, tư tưởng trong cán bộ, đảng viên",
                             "2023-10-07T08:34:00+07:00", None, "H.NHUNG"),
    "001_b2fe4df160b6338f": ("Phát huy vai trò hạt nhân chính trị, thực hiện tốt công tác xây dựng Đảng",
                             "2024-01-11T14:40:00+07:00", "BĐ", None),
    "002_7cfa0be5b48b213f": ("Tiếp tục lãnh đạo, chỉ đạo tổ chức quán triệt nghiêm túc Kết luận số 21-KL/TW "
                             "sâu rộng đến chi bộ, cán bộ, đảng viên", "2022-10-07", "Thanhuytphcm.vn", "Đình Quân"),
    "003_44e163ab98d69cf3": ("Tập trung đổi mới, nâng cao hiệu quả công tác giáo dục chính trị tư tưởng",
                             "2022-09-23T13:54:45+07:00", "ĐTO", "Ngân Nguyễn"),
    "004_d70c9f24cee2e267": ("Thành phố Ngã Bảy: Tổng kết Điều lệ Đảng và công tác xây dựng Đảng",
                             "2024-01-30T08:03:00+07:00", "HG", "BẢO TOÀN"),
}


@pytest.fixture(scope="module")
def seeds():
    return {a.id: a for a in read([SEEDS])}


def test_seed_metadata_is_extracted(seeds):
    assert set(seeds) == set(EXPECTED)
    for article_id, (title, date, source, author) in EXPECTED.items():
        a = seeds[article_id]
        assert (a.title, a.date.isoformat(), a.source, a.author) == (title, date, source, author)
        assert a.date.moment.utcoffset() == timedelta(hours=7)


def test_site_furniture_captions_and_tags_are_not_article_text(seeds):
    everything = "\n".join(a.text for a in seeds.values())
    for furniture in ("Ý kiến bạn đọc", "Tin khác", "Xem thêm >>", "Trở về trang trước", "Gửi bình luận của bạn",
                      "Viết bình luận mới", "Tin cùng chuyên mục", "Ảnh: H.P", "refresh", "Tổng lượt bình luận"):
        assert furniture not in everything
    assert not seeds["001_b2fe4df160b6338f"].lead.startswith("(BĐ)")
    assert seeds["002_7cfa0be5b48b213f"].lead.startswith("Sáng 7/10")
    assert "phát biểu tại hội nghị\n" not in seeds["002_7cfa0be5b48b213f"].text  # the photo caption
    assert seeds["000_abc709b6f580d3e9"].body.endswith("hiện đại hóa”.")


def test_an_article_without_a_date_gets_none(tmp_path):
    (tmp_path / "a.txt").write_text("Tiêu đề bài viết\n\nNội dung bài viết không có ngày tháng nào.\n", "utf-8")
    [article] = read([tmp_path])
    assert article.title == "Tiêu đề bài viết" and article.date is None


def test_ids_are_paths_relative_to_the_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("Tiêu đề\n\nNội dung.\n", "utf-8")
    assert [a.id for a in read([tmp_path])] == ["sub/b"]


def test_jsonl_records_with_a_field_map(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"sid": "s1", "text": "Câu văn đầu tiên.", "date": "2021-05-01"},
        {"sid": "s2", "text": "Câu văn thứ hai."},
    ])
    found = list(read([path], FieldMap.parse(["id=sid", "body=text"])))
    assert [a.id for a in found] == ["s1", "s2"]
    assert found[0].body == "Câu văn đầu tiên." and found[0].date.isoformat() == "2021-05-01"


def test_bad_field_map_is_refused():
    with pytest.raises(ValueError, match="--map"):
        FieldMap.parse(["body"])


def test_bad_files_are_named_and_skipped_and_good_ones_read(tmp_path):
    (tmp_path / "good.txt").write_text("Bài tốt\n\nNội dung bài tốt.\n", "utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (tmp_path / "cp1258.txt").write_bytes("Bài đà: Hà Tây, Cà Mau".encode("cp1258"))
    (tmp_path / "utf16.txt").write_bytes("Bài UTF-16\n\nNội dung đọc được.".encode("utf-16"))
    (tmp_path / "empty.txt").write_bytes(b"")
    records = tmp_path / "records.jsonl"
    records.write_text('{"id": "r1", "title": "Một"}\n{"id": "r2", "title": \n{"title": "không id"}\n'
                       '{"id": "r3", "body": "Ba"}\n', "utf-8")
    found = list(read([tmp_path, records]))
    articles = {a.id for a in found if not isinstance(a, Problem)}
    problems = {str(p) for p in found if isinstance(p, Problem)}
    assert articles == {"good", "utf16", "r1", "r3"}
    assert any("binary.txt" in p and "binary" in p for p in problems)
    assert any("cp1258.txt" in p and "not UTF-8" in p for p in problems)
    assert any("empty.txt" in p and "empty" in p for p in problems)
    assert any(p.startswith(f"{records}:2:") and "JSON" in p for p in problems)
    assert any(p.startswith(f"{records}:3:") and "'id'" in p for p in problems)


def test_truncated_gzip_keeps_the_records_before_the_cut(tmp_path):
    data = gzip.compress("".join(json.dumps({"id": f"r{i}", "body": "Nội dung " * 50}) + "\n"
                                 for i in range(200)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    found = list(read([path]))
    assert isinstance(found[-1], Problem) and "cannot read further" in found[-1].message
    assert len(found) > 10 and all(not isinstance(a, Problem) for a in found[:-1])


def test_missing_path_is_reported(tmp_path):
    [problem] = read([tmp_path / "nope"])
    assert isinstance(problem, Problem) and "no such file" in problem.message
