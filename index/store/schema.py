"""The Whoosh schema: what an indexed article holds, and how each part is searched.

Title and text are each indexed at four granularities (pyvi words, syllables,
folded syllables, neighbouring pairs; see `index.analysis.analyzers`), all as term
frequencies without positions: the searcher scores them together from the
posting lists, and finds phrases and proximity as pairs. Field weights are
the searcher's, not stored, so weights stay plain term frequencies. Facet
fields are sortable so their values come from columns, not from loading
stored documents.
"""

from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema

from index.analysis.analyzers import FoldedAnalyzer, FoldedPairAnalyzer, PairAnalyzer, SyllableAnalyzer, WordAnalyzer

# Text fields by granularity, title first: the searcher builds its queries from these names.
GRANULARITIES = {
    "words": WordAnalyzer,
    "syllables": SyllableAnalyzer,
    "folded": FoldedAnalyzer,
    "pairs": PairAnalyzer,
    "folded_pairs": FoldedPairAnalyzer,
}
TITLE_FIELDS = {"words": "title", "syllables": "title_syl", "folded": "title_fold",
                "pairs": "title_pair", "folded_pairs": "title_pair_fold"}
TEXT_FIELDS = {"words": "text", "syllables": "text_syl", "folded": "text_fold",
               "pairs": "text_pair", "folded_pairs": "text_pair_fold"}

FACET_FIELDS = ("region", "province", "district", "province_2025", "year", "month")
NO_VALUE = ""  # the facet value of an article with no locality or no date


class _Unindexed:
    """A field kept as a column (and stored, where asked) but not indexed: filters, facets and the indexer's
    known hashes read columns, and no query looks these values up as terms (a date's were eight terms an
    article, 70 % of Whoosh's term index)."""

    indexed = False


class ColumnID(_Unindexed, ID):
    pass


class ColumnDATETIME(_Unindexed, DATETIME):
    pass


def make_schema():
    text_fields = {}
    for granularity, analyzer in GRANULARITIES.items():
        stored = granularity == "words"  # the title is stored once, with its words field
        text_fields[TITLE_FIELDS[granularity]] = TEXT(analyzer=analyzer(), stored=stored, phrase=False)
        text_fields[TEXT_FIELDS[granularity]] = TEXT(analyzer=analyzer(), phrase=False)
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        content_hash=ColumnID(sortable=True),
        **text_fields,
        lead=STORED,
        body=STORED,
        published=STORED,  # ISO 8601 as written: with time and zone, or the day alone
        date=ColumnDATETIME(sortable=True),  # local (UTC+7) time, for range filters and sorting
        year=ColumnID(sortable=True),
        month=ColumnID(sortable=True),
        source=STORED,
        author=STORED,
        url=STORED,
        category=STORED,
        region=ColumnID(stored=True, sortable=True),
        province=ColumnID(stored=True, sortable=True),
        district=ColumnID(stored=True, sortable=True),  # "Province|District": district names repeat across provinces
        province_2025=ColumnID(stored=True, sortable=True),
        locality_confidence=STORED,
    )

# Folded field: the field whose terms it folds. A folded term's postings are those of the terms it folds
# (`index.store.postingfile` keeps the list, not a copy of the postings).
FOLDED = {fields[folded]: fields[source] for fields in (TITLE_FIELDS, TEXT_FIELDS)
          for folded, source in (("folded", "syllables"), ("folded_pairs", "pairs"))}
