"""Which province (and district) a news article is about, from its own words.

One pass over the syllables of the title, lead and body finds place names from
the gazetteer, longest name first, and weighs each by how sure it is a place:
a provincial newspaper's tag ("(BĐ) -") or a type word ("tỉnh Gia Lai",
"huyện Krông Pa", "Thành ủy Ngã Bảy") count most, a bare province name less,
and a name after a person's title or surname ("ông Hà Nam", "Nguyễn Thị Hà
Giang") not at all. The province with the most weight wins when it clearly
leads; otherwise the article is left without a province.
"""

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from index.analysis.normalize import new_style, nfc, old_style
from index.locality import gazetteer

# Weights of one mention, by kind of evidence.
TAG = 6.0
TYPED_PROVINCE = 3.0
TYPED_DISTRICT = 2.5
BARE_PROVINCE = 1.0
# Weight of a part of the article: the title and lead say what it is about.
PART_WEIGHT = {"title": 2.0, "lead": 1.5, "body": 1.0}
# Least confidence to name a province; below it the extractor abstains.
MIN_CONFIDENCE = 0.3

# A _TOWN type word ("thành phố", "quận", "thị xã") cannot name a unit that is
# still a rural district: "thành phố Trùng Khánh" is in China, not Cao Bằng.
_PROVINCE, _DISTRICT, _TOWN = "province", "district", "town"
# Type words before a name and what they introduce; an empty set makes the name
# something else: a ward, a street, a river, a power plant, a home town.
_TYPE_WORDS = {
    "tỉnh": {_PROVINCE},
    "tỉnh ủy": {_PROVINCE},
    "thủ đô": {_PROVINCE},
    "thành phố": {_PROVINCE, _TOWN},
    "tp": {_PROVINCE, _TOWN},
    "thành ủy": {_PROVINCE, _TOWN},
    "huyện": {_DISTRICT},
    "quận": {_TOWN},
    "thị xã": {_TOWN},
    "tx": {_TOWN},
    "huyện ủy": {_DISTRICT},
    "quận ủy": {_TOWN},
    "thị ủy": {_TOWN},
    "xã": set(),
    "phường": set(),
    "thị trấn": set(),
    "thôn": set(),
    "ấp": set(),
    "đường": set(),
    "phố": set(),
    "ngõ": set(),
    "hẻm": set(),
    "cầu": set(),
    "chợ": set(),
    "sông": set(),
    "bến xe": set(),
    "thủy điện": set(),
    "quê": set(),  # a person's home town says little about where the news is
}
# Words that make the capitalised name after them a person's.
_PERSON_TITLES = (
    *"ông bà anh chị em cô chú bác cháu cụ cậu thầy bé vợ chồng con tên".split(),
    "ca sĩ", "nghệ sĩ", "chủ tịch", "đồng chí",
)
# Surnames and common middle names: "Nguyễn Thị Hà Giang" is a person.
_SURNAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đào Trương Lương Lưu "
    "Tô Tạ Đoàn Vương Chu Quách Triệu Mạc Phùng Thân Kiều Khổng Văn Thị Hữu Đình Công Quốc Đức Ngọc Xuân"
)
# Names that count only after a type word: "Hồ Chí Minh" alone is the President
# far more often than the city; "HCM" and "HN" alone are tickers and initials.
_NEEDS_TYPE = ("Hồ Chí Minh", "HCM", "HN")
# Capitalised phrases that contain a place name but are something else.
_NOT_PLACES = ("Thái Bình Dương",)

_SPLIT = re.compile(r"(\W+)")
_NAME_GAP = re.compile(r"\s+|\s*[-–]\s*")
_TYPE_GAP = re.compile(r"\s*\.?\s*")
_TAG = re.compile(r"\s*(?:\(([^()\n]{2,40})\)|([^\s()]{2,30}))\s*[-–—]")


@dataclass(frozen=True)
class Locality:
    """Where an article is about; province None means unknown (the extractor abstained)."""

    region: str = None
    province: str = None
    district: str = None
    province_2025: str = None
    confidence: float = 0.0
    evidence: tuple = ()

    def as_dict(self):
        return {
            "region": self.region,
            "province": self.province,
            "district": self.district,
            "province_2025": self.province_2025,
            "confidence": self.confidence,
        }


UNKNOWN = Locality()


@dataclass(frozen=True)
class _Entry:
    """What a name in the text may stand for."""

    province: object = None
    districts: tuple = ()
    needs_type: bool = False
    cased: bool = True
    not_place: bool = False


@dataclass(frozen=True)
class _Hit:
    province: object
    weight: float
    label: str
    district: object = None


def _spellings(phrase):
    """The lower-case syllables of a phrase in both tone-mark styles ("hòa bình", "hoà bình").

    Matching the text in its own style spares restyling every article.
    """
    return {tuple(_SPLIT.split(style(phrase).lower())[0::2]) for style in (new_style, old_style)}


def _phrase_table(phrases):
    """Phrase -> value, keyed by its lower-case syllables in both tone-mark styles."""
    return {key: value for phrase, value in phrases.items() for key in _spellings(phrase)}


class _NameTables:
    """Names, type words and person words as tuples of lower-case syllables."""

    def __init__(self):
        entries = defaultdict(lambda: {"provinces": [], "districts": [], "needs_type": False, "cased": True})
        for province in gazetteer.provinces():
            for name in (province.name, *gazetteer.PROVINCE_ALIASES.get(province.name, ())):
                for key in _spellings(name):
                    entries[key]["provinces"].append(province)
                    entries[key]["needs_type"] = name in _NEEDS_TYPE
        for district in gazetteer.districts():
            numbered = district.name[-1].isdigit()  # "quận 1" is written in lower case too
            for key in _spellings(district.name):
                entries[key]["districts"].append(district)
                entries[key]["cased"] = not numbered
        self.names = {
            key: _Entry(
                province=e["provinces"][0] if e["provinces"] else None,
                districts=tuple(e["districts"]),
                needs_type=e["needs_type"],
                cased=e["cased"],
            )
            for key, e in entries.items()
        }
        for phrase in _NOT_PLACES:
            self.names.update(dict.fromkeys(_spellings(phrase), _Entry(not_place=True)))
        self.prefixes = {key[:n] for key in self.names for n in range(1, len(key))}
        # First syllables as they may be written: "Hà", "HÀ"; "quận" also in lower case.
        self.first = {
            form
            for key, entry in self.names.items()
            for form in (key[0].capitalize(), key[0].upper()) + ((key[0],) if not entry.cased else ())
        }
        self.types = _phrase_table(_TYPE_WORDS)
        self.person_titles = _phrase_table(dict.fromkeys(_PERSON_TITLES, True))
        self.surnames = {key[0] for name in _SURNAMES.split() for key in _spellings(name)}


@lru_cache(maxsize=1)
def _name_tables():
    return _NameTables()


class _Text:
    """One part of an article split into syllables and the gaps between them.

    `words[i]` is syllable i as written, `gaps[i]` the text between syllables
    i and i + 1; `lower(i, j)` gives syllables i..j-1 lower-cased for lookup.
    """

    def __init__(self, text):
        self._parts = _SPLIT.split(nfc(text))
        self.words, self.gaps = self._parts[0::2], self._parts[1::2]

    def lower(self, start, end):
        return tuple(w.lower() for w in self.words[max(start, 0) : end])

    def capitalised(self, i):
        return self.words[i][:1].isupper()

    def surface(self, start, end):
        return "".join(self._parts[2 * start : 2 * end - 1])


def _match_at(text, i, tables):
    """The longest name starting at syllable i: (length, entry) or None."""
    found = None
    for end in range(i + 1, len(text.words) + 1):
        key = text.lower(i, end)
        entry = tables.names.get(key)
        if entry is not None and (not entry.cased or all(text.capitalised(j) for j in range(i, end))):
            found = (end - i, entry)
        if key not in tables.prefixes or end == len(text.words) or not _NAME_GAP.fullmatch(text.gaps[end - 1]):
            return found
    return found


def _gap(text, i):
    return text.gaps[i] if 0 <= i < len(text.gaps) else ""


def _type_before(text, i):
    """The type word right before syllable i: (its first syllable, what it introduces) or None."""
    for length in (2, 1):
        start = i - length
        if start < 0 or not _TYPE_GAP.fullmatch(_gap(text, i - 1)):
            continue
        if length == 2 and not _gap(text, start).isspace():
            continue
        kinds = _name_tables().types.get(text.lower(start, i))
        if kinds is not None:
            return start, kinds
    return None


def _after_person(text, i):
    """True when the name at i follows a person's title or a surname ("ông Hà Nam", "Lê Quốc Phong")."""
    if i == 0 or not _gap(text, i - 1).isspace():
        return False
    tables = _name_tables()
    if text.lower(i - 1, i) in tables.person_titles or text.lower(i - 2, i) in tables.person_titles:
        return True
    return text.capitalised(i - 1) and text.words[i - 1].lower() in tables.surnames


def _is_locator(text, i, length):
    """True for a province named in parentheses after a place: "Cửa Lò (Nghệ An)", "(Kỳ Sơn, Hòa Bình)"."""
    return "(" in _gap(text, i - 1) or _gap(text, i + length - 1).startswith(")")


def _hits_of(text, i, length, entry, weight):
    """The evidence one matched name gives."""
    if entry.not_place:
        return [], []
    typed = _type_before(text, i)
    if typed:
        start, kinds = typed
        label = text.surface(start, i + length)
        if _PROVINCE in kinds and entry.province:
            return [_Hit(entry.province, TYPED_PROVINCE * weight, f"{label} (type word")], []
        districts = [d for d in entry.districts if _DISTRICT in kinds or (_TOWN in kinds and d.kind != "Huyện")]
        if districts:
            hits = [_Hit(d.province, TYPED_DISTRICT * weight, f"{label} (district", d) for d in districts]
            return (hits, []) if len(hits) == 1 else ([], hits)
        return [], []
    if entry.province and not entry.needs_type and not _after_person(text, i):
        name = text.surface(i, i + length)
        if _is_locator(text, i, length):
            return [_Hit(entry.province, TYPED_PROVINCE * weight, f"({name}) (locator")], []
        return [_Hit(entry.province, BARE_PROVINCE * weight, f"{name} (name")], []
    if len(entry.districts) == 1 and not entry.cased:
        d = entry.districts[0]
        return [_Hit(d.province, TYPED_DISTRICT * weight, f"{text.surface(i, i + length)} (district", d)], []
    return [], []


def _scan(text, part):
    """Evidence from one part of the article: sure hits and ambiguous district hits."""
    tables = _name_tables()
    weight = PART_WEIGHT[part]
    sure, ambiguous = [], []
    free = 0
    for i in [i for i, word in enumerate(text.words) if word in tables.first]:
        if i < free:
            continue
        found = _match_at(text, i, tables)
        if found is None:
            continue
        length, entry = found
        hits, maybe = _hits_of(text, i, length, entry, weight)
        sure += _in_part(hits, part)
        if maybe:
            ambiguous.append(_in_part(maybe, part))
        free = i + length
    return sure, ambiguous


def _in_part(hits, part):
    """Close each hit's label with the part it was found in: 'tỉnh Gia Lai (type word, lead)'."""
    return [_Hit(h.province, h.weight, f"{h.label}, {part})", h.district) for h in hits]


def _tag_hits(lead, body, source):
    """A newspaper's tag at the start of the lead or of the body's first paragraphs, or its name."""
    starts = [lead] + body.split("\n", 3)[:3]
    for start in starts:
        m = _TAG.match(nfc(start[:50]))
        if m:
            tag = m.group(1) or m.group(2)
            province = gazetteer.find_newspaper_tag(tag)
            if province:
                return [_Hit(province, TAG, f"({tag}) (newspaper tag)")]
    if source:
        province = gazetteer.find_newspaper_tag(source)
        if province:
            return [_Hit(province, TAG, f"{source} (newspaper)")]
    return []


def _resolve_ambiguous(hits, ambiguous):
    """An ambiguous district ("huyện Châu Thành") counts for the one candidate province already named."""
    named = {h.province.name for h in hits}
    resolved = []
    for group in ambiguous:
        candidates = [h for h in group if h.province.name in named]
        if len(candidates) == 1:
            resolved.append(candidates[0])
    return hits + resolved


def _confidence(best, second):
    """High when the winner has strong evidence and clearly leads."""
    return round(best / (best + second) * (1 - math.exp(-best / 4)), 3)


def _evidence(hits):
    """Short readable reasons, strongest first, repeats counted."""
    weights, counts = defaultdict(float), defaultdict(int)
    for h in hits:
        weights[h.label] += h.weight
        counts[h.label] += 1
    ranked = sorted(weights, key=weights.get, reverse=True)[:6]
    return tuple(label if counts[label] == 1 else f"{label} ×{counts[label]}" for label in ranked)


def _best_district(hits):
    weights, by_name = defaultdict(float), {}
    for h in hits:
        if h.district is not None:
            weights[h.district.name] += h.weight
            by_name[h.district.name] = h.district
    return by_name[max(weights, key=weights.get)] if weights else None


def extract_locality(title, lead, body, source=None):
    """The article's locality, or UNKNOWN when the evidence is too weak or split."""
    hits, ambiguous = list(_tag_hits(lead or "", body or "", source)), []
    for part, text in (("title", title), ("lead", lead), ("body", body)):
        if text:
            sure, maybe = _scan(_Text(text), part)
            hits += sure
            ambiguous += maybe
    hits = _resolve_ambiguous(hits, ambiguous)
    scores = defaultdict(float)
    for h in hits:
        scores[h.province.name] += h.weight
    if not scores:
        return UNKNOWN
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best_name, best_score = ranked[0]
    second_score = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = _confidence(best_score, second_score)
    if confidence < MIN_CONFIDENCE:
        return UNKNOWN
    own = [h for h in hits if h.province.name == best_name]
    best = own[0].province
    district = _best_district(own)
    return Locality(
        region=best.region.name,
        province=best.name,
        district=district.name if district else None,
        province_2025=best.province_2025.name,
        confidence=confidence,
        evidence=_evidence(own),
    )


def locality_from_record(value):
    """A record's own province or locality field, trusted over extraction; None if not a known place.

    Takes a province name ("Hoà Bình"), or a dict with "province" and maybe "district".
    """
    if isinstance(value, dict):
        province_name, district_name = value.get("province"), value.get("district")
    else:
        province_name, district_name = value, None
    if not isinstance(province_name, str) or not province_name.strip():
        return None
    province = gazetteer.find_old_province(province_name)
    if province is None:
        return None
    district = gazetteer.find_district(district_name, province) if district_name else None
    return Locality(
        region=province.region.name,
        province=province.name,
        district=district.name if district else None,
        province_2025=province.province_2025.name,
        confidence=1.0,
        evidence=("record field",),
    )
