"""Shared fixtures: the seeds indexed once per session into a temporary index, and fresh indexes per test."""

import shutil
from pathlib import Path

import pytest

from index.writer import index_articles

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory):
    """An index of the five sample articles; tests must not write to it."""
    path = tmp_path_factory.mktemp("seeds-index")
    summary = index_articles([SEEDS], path, workers=1)
    assert summary.indexed == 5
    return path


@pytest.fixture
def engine(seeds_index):
    from search.engine import Engine

    with Engine(seeds_index) as engine:
        yield engine


@pytest.fixture(scope="module")
def app(seeds_index):
    """The web app over the sample articles (module-wide: property-based tests share it)."""
    from webui.app import create_app

    return create_app({"INDEX_DIR": str(seeds_index), "TESTING": True})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture
def copy_of_seeds_index(seeds_index, tmp_path):
    """A private copy of the seeds index, for tests that write."""
    target = tmp_path / "index"
    shutil.copytree(seeds_index, target)
    return target


def write_jsonl(path, records):
    import json

    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# A small archive for the reader's features (suggestions, related articles, timeline, feeds, exports):
# sport and city news over three months of 2017, one story syndicated twice, bodies in single-newline
# paragraphs with photo captions, the way real feeds give them.
ARCHIVE = [
    {"id": "bd-1", "title": "Đội tuyển bóng đá Việt Nam thắng Thái Lan tại Hà Nội", "date": "2017-05-03T19:30:00",
     "source": "Thể thao", "url": "https://example.vn/bd-1", "province": "Hà Nội",
     "sapo": "Đội tuyển bóng đá Việt Nam thắng Thái Lan 2-1 trên sân Mỹ Đình.",
     "body": "Trận đấu diễn ra tối qua trên sân Mỹ Đình trước bốn vạn khán giả.\n"
             "Các cầu thủ ăn mừng bàn thắng quyết định (Ảnh: Minh Anh).\n"
             "Huấn luyện viên khen ngợi tinh thần thi đấu của các tiền vệ trẻ.\n"
             "Đội tuyển sẽ tiếp tục tập huấn tại Hà Nội trước vòng loại."},
    {"id": "bd-1-copy", "title": "Đội tuyển bóng đá Việt Nam thắng Thái Lan tại Hà Nội",
     "date": "2017-05-03T21:00:00", "source": "Báo khác", "province": "Hà Nội",
     "body": "Đội tuyển bóng đá Việt Nam thắng Thái Lan 2-1 trên sân Mỹ Đình. Trận đấu diễn ra tối qua "
             "trước bốn vạn khán giả; huấn luyện viên khen ngợi tinh thần thi đấu của các tiền vệ trẻ."},
    {"id": "bd-2", "title": "Giải bóng đá U23 khai mạc ở Hà Nội", "date": "2017-05-20", "province": "Hà Nội",
     "body": "Giải bóng đá U23 quốc gia khai mạc trên sân Mỹ Đình, tám đội tranh tài.\n"
             "Ban tổ chức cho biết các tiền vệ trẻ sẽ được theo dõi để chọn vào đội tuyển."},
    {"id": "bd-3", "title": "Bóng đá nữ chuẩn bị cho SEA Games", "date": "2017-06-10",
     "province": "Hồ Chí Minh", "body": "Đội tuyển bóng đá nữ tập luyện tại Thành phố Hồ Chí Minh cho SEA Games."},
    {"id": "bc-1", "title": "Bóng chuyền nữ giành huy chương bạc", "date": "2017-06-15", "province": "Đà Nẵng",
     "body": "Đội bóng chuyền nữ giành huy chương bạc sau trận chung kết kịch tính tại Đà Nẵng."},
    {"id": "bc-2", "title": "Đội bóng chuyền Hà Nội lên hạng", "date": "2017-07-01", "province": "Hà Nội",
     "body": "Đội bóng chuyền Hà Nội lên hạng sau mùa giải thành công."},
    {"id": "hn-1", "title": "Hà Nội mở rộng tuyến xe buýt nhanh", "date": "2017-07-09", "province": "Hà Nội",
     "body": "Thành phố Hà Nội mở rộng tuyến xe buýt nhanh tới quận Hà Đông.\n"
             "Người dân chờ xe buýt ở nhà chờ mới (Ảnh minh họa)."},
    {"id": "dv-1", "title": "Đảng viên Hà Nội học tập nghị quyết", "date": "2017-05-30", "province": "Hà Nội",
     "body": "Các đảng viên ở Hà Nội học tập nghị quyết của Đảng về xây dựng Đảng."},
]


def index_of(path, records):
    """A fresh index in `path`/ix of `records` (dicts, written as JSON lines), every one of them indexed."""
    summary = index_articles([write_jsonl(path / "records.jsonl", records)], path / "ix", workers=1)
    assert summary.indexed == len(records)
    return path / "ix"


def client_of(index_dir):
    """A test client of the web app over `index_dir`."""
    from webui.app import create_app

    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


@pytest.fixture(scope="session")
def archive_index(tmp_path_factory):
    """An index of ARCHIVE; tests must not write to it."""
    return index_of(tmp_path_factory.mktemp("archive-index"), ARCHIVE)


@pytest.fixture(scope="module")
def archive_client(archive_index):
    return client_of(archive_index)


def commit_unmerged(index_dir, path):
    """Index the articles of `path` as one more segment, committed without merging the posting files (as
    a run stopped after a batch leaves it): the merged file covers the first segments, this one has its own."""
    from index.sources import articles
    from index.store import builder
    from index.store.directory import Committer, open_index
    from index.writer import analyse, document

    ix = open_index(index_dir)
    read = [a for a in articles.read([path]) if isinstance(a, articles.Article)]
    committer = Committer(ix, rebuild=False, lock_timeout=5, batch=10 ** 6)
    committer.open()
    committer.add([builder.build(ix, analyse(read), document)])
    committer.commit()
    return committer
