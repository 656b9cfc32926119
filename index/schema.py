"""The Whoosh schema: what an indexed article holds, and how each part is searched.

Title and text are each indexed three times (pyvi words, syllables, folded
syllables, see `index.analysis`); the searcher scores the three together.
Facet fields are sortable so their values come from columns, not from
loading stored documents.
"""

from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema

from index.analysis import FoldedAnalyzer, SyllableAnalyzer, WordAnalyzer

# Text fields by granularity, title first: the searcher builds its queries from these names.
TITLE_FIELDS = {"words": "title", "syllables": "title_syl", "folded": "title_fold"}
TEXT_FIELDS = {"words": "text", "syllables": "text_syl", "folded": "text_fold"}
TITLE_BOOST = 2.5

FACET_FIELDS = ("region", "province", "district", "province_2025", "year", "month")
NO_VALUE = ""  # the facet value of an article with no locality or no date


def make_schema():
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        content_hash=ID(stored=True, sortable=True),
        title=TEXT(analyzer=WordAnalyzer(), stored=True, field_boost=TITLE_BOOST, phrase=False),
        title_syl=TEXT(analyzer=SyllableAnalyzer(), field_boost=TITLE_BOOST),
        title_fold=TEXT(analyzer=FoldedAnalyzer(), field_boost=TITLE_BOOST),
        text=TEXT(analyzer=WordAnalyzer(), phrase=False),  # phrases are matched on syllables
        text_syl=TEXT(analyzer=SyllableAnalyzer()),
        text_fold=TEXT(analyzer=FoldedAnalyzer()),
        lead=STORED,
        body=STORED,
        published=STORED,  # ISO 8601 as written: with time and zone, or the day alone
        date=DATETIME(sortable=True),  # local (UTC+7) time, for range filters and sorting
        year=ID(sortable=True),
        month=ID(sortable=True),
        source=STORED,
        author=STORED,
        url=STORED,
        category=ID(stored=True),
        region=ID(stored=True, sortable=True),
        province=ID(stored=True, sortable=True),
        district=ID(stored=True, sortable=True),  # "Province|District": district names repeat across provinces
        province_2025=ID(stored=True, sortable=True),
        locality_confidence=STORED,
    )
