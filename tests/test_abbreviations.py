"""Every entry of the abbreviation table: a query with one form finds articles written with each other form."""

import pytest

from index.writer import index_articles
from search.abbreviations import read_table
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import write_jsonl

TABLE = read_table()
FILLER = "Bản tin hôm nay có nội dung về công việc chung của cơ quan."


@pytest.fixture(scope="module")
def abbreviation_engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("abbr")
    records = [{"id": f"{i}-{j}", "title": "Tin tức", "body": f"{FILLER} Hôm qua, {form} đã họp."}
               for i, forms in enumerate(TABLE) for j, form in enumerate(forms)]
    records.append({"id": "plain", "title": "Tin tức", "body": FILLER})
    index_articles([write_jsonl(folder / "r.jsonl", records)], folder / "ix", workers=1)
    with Engine(folder / "ix") as engine:
        yield engine


@pytest.mark.parametrize("i, forms", list(enumerate(TABLE)), ids=[forms[0] for forms in TABLE])
def test_each_form_finds_every_form_of_its_entry(abbreviation_engine, i, forms):
    expected = {f"{i}-{j}" for j in range(len(forms))}
    for form in forms:
        result = abbreviation_engine.search(SearchRequest.from_params({"q": form, "limit": "100"}))
        found = {h.id for h in result.hits}
        assert expected <= found, f"{form!r} missed {sorted(expected - found)}"
        assert "plain" not in found


def test_ambiguous_short_forms_are_not_expanded_alone(abbreviation_engine):
    forms = {form.lower() for entry in TABLE for form in entry}
    assert "tp" not in forms and "hn" not in forms


def test_folded_abbreviation_finds_the_accented_one(abbreviation_engine):
    result = abbreviation_engine.search(SearchRequest.from_params({"q": "hdnd", "limit": "100"}))
    assert {h.id for h in result.hits} >= {"0-0", "0-1"}
