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
