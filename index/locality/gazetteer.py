"""Vietnamese administrative places: regions, provinces (63 old, 34 since July 2025), districts.

Places come from the snapshot index/locality/data/gazetteer.json (built by
tools/gazetteer_build.py from vietnamadminunits 1.0.4); regions, aliases, former
districts and newspaper tags are our own tables below.

Display names carry no type word and use the source's spelling (tone mark in
the new style): provinces "Hồ Chí Minh", "Hà Nội", "Thừa Thiên Huế", "Hòa Bình";
districts "Thủ Đức", "Ngã Bảy", numbered ones "Quận 1". The type word is kept
apart in `kind` ("Thành phố", "Tỉnh", "Quận", "Huyện", "Thị xã"); `full_name`
joins both. Names are compared after `canonical` (so "Hoà"/"Hòa" are one) and,
when the user typed no diacritics, after `fold`.
"""

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from index.analysis.normalize import canonical, fold, has_diacritics

SNAPSHOT = Path(__file__).parent / "data" / "gazetteer.json"


@dataclass(frozen=True)
class Region:
    """One of the six socio-economic regions (GSO), made of old provinces."""

    code: str
    name: str
    provinces: tuple


@dataclass(frozen=True)
class Province:
    """A province or centrally-run city; `is_2025` marks the 34 since July 2025.

    An old province links to its region and to the 2025 province it is part of;
    a 2025 province lists the old provinces merged into it (`old_provinces`).
    """

    code: str
    kind: str
    name: str
    region: Region = None
    province_2025: "Province" = None
    old_provinces: tuple = ()
    is_2025: bool = False

    @property
    def full_name(self):
        return f"{self.kind} {self.name}"

    @property
    def merged(self):
        """True for a 2025 province made of several old ones."""
        return len(self.old_provinces) > 1


@dataclass(frozen=True)
class District:
    """A district-level unit of an old province; `former` ones were merged away before 2025."""

    code: str
    kind: str
    name: str
    province: Province
    former: bool = False

    @property
    def full_name(self):
        return f"{self.kind} {self.name}" if self.kind and not self.name.startswith(self.kind) else self.name


# GSO's six socio-economic regions, keyed on the old (63-list) province codes.
REGIONS = (
    ("DBSH", "Đồng bằng sông Hồng", "01 22 26 27 30 31 33 34 35 36 37"),
    ("TDMNPB", "Trung du và miền núi phía Bắc", "02 04 06 08 10 11 12 14 15 17 19 20 24 25"),
    ("BTB-DHMT", "Bắc Trung Bộ và Duyên hải miền Trung", "38 40 42 44 45 46 48 49 51 52 54 56 58 60"),
    ("TN", "Tây Nguyên", "62 64 66 67 68"),
    ("DNB", "Đông Nam Bộ", "70 72 74 75 77 79"),
    ("DBSCL", "Đồng bằng sông Cửu Long", "80 82 83 84 86 87 89 91 92 93 94 95 96"),
)

REGION_ALIASES = {
    "Đồng bằng sông Hồng": ("ĐBSH", "đồng bằng Bắc Bộ"),
    "Trung du và miền núi phía Bắc": ("miền núi phía Bắc", "Trung du miền núi phía Bắc", "Tây Bắc", "Đông Bắc"),
    "Bắc Trung Bộ và Duyên hải miền Trung": ("Bắc Trung Bộ", "Duyên hải Nam Trung Bộ", "Nam Trung Bộ", "miền Trung"),
    "Đồng bằng sông Cửu Long": ("ĐBSCL", "miền Tây", "miền Tây Nam Bộ", "Tây Nam Bộ"),
}

# Short forms and spellings seen in news text, per old province.
PROVINCE_ALIASES = {
    "Hồ Chí Minh": ("TPHCM", "TP.HCM", "TP HCM", "HCM", "Sài Gòn", "Saigon", "Thành phố HCM"),
    "Hà Nội": ("HN", "Hanoi"),
    "Thừa Thiên Huế": ("Huế", "Thừa Thiên - Huế", "TT-Huế", "TT Huế"),
    "Bà Rịa - Vũng Tàu": ("BR-VT", "BRVT", "Bà Rịa Vũng Tàu", "Vũng Tàu", "Bà Rịa"),
    "Đắk Lắk": ("Đăk Lăk", "Đắk Lăk", "Đăk Lắk", "Đắc Lắc", "Daklak", "ĐắkLắk"),
    "Đắk Nông": ("Đăk Nông", "Đắc Nông", "Daknong"),
    "Kon Tum": ("Kontum",),
    "Bắc Kạn": ("Bắc Cạn",),
    "Đà Nẵng": ("Danang",),
}

# District-level units merged away in the 2019-2025 rounds (still named in news
# text of those years); the snapshot only has the units of early 2025.
FORMER_DISTRICTS = {
    "Hồ Chí Minh": ("Quận 2", "Quận 9"),
    "Quảng Ninh": ("Hoành Bồ",),
    "Hòa Bình": ("Kỳ Sơn",),
    "Nghệ An": ("Cửa Lò",),
    "Nam Định": ("Mỹ Lộc",),
    "Cao Bằng": ("Trà Lĩnh", "Thông Nông", "Phục Hòa", "Quảng Uyên"),
    "Hà Tĩnh": ("Kỳ Anh", "Lộc Hà"),
    "Tiền Giang": ("Cai Lậy",),
    "Trà Vinh": ("Duyên Hải",),
    "Đồng Tháp": ("Cao Lãnh", "Hồng Ngự"),
    "Hậu Giang": ("Long Mỹ",),
}

# Tags provincial newspapers put at the start of a lead: "(BĐ) - Sáng 10.1, ...".
# Tags of the form "Báo Quảng Ngãi", "Baoquangninh.vn", "Thanhuytphcm.vn" are
# read from the name itself (see find_newspaper_tag).
NEWSPAPER_TAGS = {
    "BĐ": "Bình Định",  # Báo Bình Định
    "ĐTO": "Đồng Tháp",  # Báo Đồng Tháp Online
    "HG": "Hậu Giang",  # Báo Hậu Giang
    "QNO": "Quảng Nam",  # Báo Quảng Nam Online
    "GLO": "Gia Lai",  # Báo Gia Lai Online
}
_TAG_PREFIXES = ("bao", "thanhuy", "tinhuy", "dangbo", "congan", "www")

_PROVINCE_TYPES = ("thành phố", "tỉnh", "tp")
_DISTRICT_TYPES = ("thành phố", "thị xã", "quận", "huyện", "tp", "tx", "q")
_PUNCTUATION = re.compile(r"[\s.,;:_/()\-–—]+")


def _key(name):
    """Lookup key of a typed name: canonical, punctuation as single spaces."""
    return _PUNCTUATION.sub(" ", canonical(name)).strip()


def _folded(key):
    return fold(key).replace(" ", "")


def _without_type(key, types):
    """Drop a leading type word, but keep "quận" before a number ("quận 1")."""
    for word in types:
        for spelling in {word, fold(word)}:
            if key.startswith(spelling + " "):
                rest = key[len(spelling) + 1 :]
                if rest.isdigit():
                    return "quận " + rest if word in ("quận", "q") else key
                return rest
    numbered = re.fullmatch(r"q(\d+)", key)
    return f"quận {numbered.group(1)}" if numbered else key


class _Index:
    """Names -> objects, by canonical key and by diacritic-free key."""

    def __init__(self):
        self.exact, self.folded = {}, {}

    def add(self, name, item):
        key = _key(name)
        for table, k in ((self.exact, key), (self.folded, _folded(key))):
            items = table.setdefault(k, [])
            if item not in items:
                items.append(item)

    def get(self, name, types):
        key = _key(name)
        keys = (key, _without_type(key, types))
        for k in keys:
            if k in self.exact:
                return self.exact[k]
        if not has_diacritics(name):
            for k in keys:
                if _folded(k) in self.folded:
                    return self.folded[_folded(k)]
        return []


def _load_snapshot():
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _gazetteer():
    """Every object and lookup table, built once from the snapshot."""
    data = _load_snapshot()
    new_rows = {code: (kind, name) for code, kind, name in data["provinces_2025"]}
    region_of_code = {c: (rc, rn) for rc, rn, codes in REGIONS for c in codes.split()}

    old_names_by_new = {}
    for code, _, name, new_code in data["provinces"]:
        old_names_by_new.setdefault(new_code, []).append((code, name))
    new_by_code = {}
    for code, (kind, name) in new_rows.items():
        members = sorted(old_names_by_new[code], key=lambda cn: (cn[1] != name, cn[0]))
        new_by_code[code] = Province(code, kind, name, old_provinces=tuple(n for _, n in members), is_2025=True)

    region_members = {}
    for code, _, name, _ in data["provinces"]:
        region_members.setdefault(region_of_code[code][0], []).append(name)
    regions = {rc: Region(rc, rn, tuple(region_members[rc])) for rc, rn, _ in REGIONS}

    old = {}
    for code, kind, name, new_code in data["provinces"]:
        region = regions[region_of_code[code][0]]
        old[name] = Province(code, kind, name, region, new_by_code[new_code], (name,))

    districts = []
    by_code = {p.code: p for p in old.values()}
    for province_code, code, kind, name in data["districts"]:
        districts.append(District(code, kind, name, by_code[province_code]))
    for province_name, names in FORMER_DISTRICTS.items():
        districts.extend(District(None, "", name, old[province_name], former=True) for name in names)

    return SimpleNamespace(
        regions=regions,
        old=old,
        new=new_by_code,
        districts=tuple(districts),
        region_index=_named_index(regions.values(), REGION_ALIASES),
        old_index=_named_index(old.values(), PROVINCE_ALIASES),
        new_index=_named_index(new_by_code.values()),
        district_index=_district_index(districts),
    )


def _named_index(places, aliases=None):
    """The places by their names and, from `aliases` ({name: other names}), their other names."""
    index = _Index()
    for place in places:
        index.add(place.name, place)
        for alias in (aliases or {}).get(place.name, ()):
            index.add(alias, place)
    return index


def _district_index(districts):
    index = _Index()
    for district in districts:
        index.add(district.name, district)
        if district.name[-1].isdigit():
            index.add("q" + district.name.split()[-1], district)
    return index


def regions():
    """The six socio-economic regions."""
    return tuple(_gazetteer().regions.values())


def provinces():
    """The 63 provinces of the pre-July-2025 list (the ones articles and labels name)."""
    return tuple(_gazetteer().old.values())


def provinces_2025():
    """The 34 provinces since July 2025."""
    return tuple(_gazetteer().new.values())


def districts():
    """Every district-level unit, current and former."""
    return _gazetteer().districts


def find_region(name):
    """The region a user-typed name stands for, or None."""
    found = _gazetteer().region_index.get(name, ())
    return found[0] if found else None


def find_old_province(name):
    """The old (63-list) province a name or alias stands for, or None."""
    found = _gazetteer().old_index.get(name, _PROVINCE_TYPES)
    return found[0] if len(found) == 1 else None


def find_province(name):
    """The province a user-typed name stands for, or None.

    A 2025 province that absorbed others wins over the old province of the same
    name ("Cần Thơ" since 2025 also covers Hậu Giang and Sóc Trăng): the result
    then has is_2025 and its old_provinces tell what it covers.
    """
    g = _gazetteer()
    new = g.new_index.get(name, _PROVINCE_TYPES)
    if new and new[0].merged:
        return new[0]
    return find_old_province(name) or (new[0] if new else None)


def districts_named(name, province=None):
    """Every district a name may stand for, in one province when given (a name or a Province)."""
    found = _gazetteer().district_index.get(name, _DISTRICT_TYPES)
    if province is None:
        return tuple(found)
    covered = set(old_provinces_of(province.name if isinstance(province, Province) else province))
    return tuple(d for d in found if d.province.name in covered)


def find_district(name, province=None):
    """The district a user-typed name stands for, or None when unknown or ambiguous ("Châu Thành")."""
    found = districts_named(name, province)
    return found[0] if len(found) == 1 else None


@lru_cache(maxsize=1024)
def region_of(province_name):
    """The region of an old province, or None."""
    province = find_old_province(province_name)
    return province.region if province else None


def province_2025_of(old_province_name):
    """The 2025 province an old one became part of, or None."""
    province = find_old_province(old_province_name)
    return province.province_2025 if province else None


def old_provinces_of(name):
    """Old province names a province filter covers: "Cần Thơ" -> ["Cần Thơ", "Hậu Giang", "Sóc Trăng"]."""
    province = find_province(name)
    if province is None:
        return []
    return list(province.old_provinces)


@lru_cache(maxsize=1024)
def province_label(old_name):
    """The name the UI shows: "Hậu Giang (nay thuộc Cần Thơ)" for a province merged in 2025."""
    province = find_old_province(old_name)
    if province is None:
        return old_name
    new = province.province_2025
    if new.name == province.name:
        return province.name
    if new.merged:
        return f"{province.name} (nay thuộc {new.name})"
    return f"{province.name} (nay là {new.name})"


def _tag_folded(tag):
    return re.sub(r"[^a-z]", "", fold(canonical(tag)))


@lru_cache(maxsize=1)
def _tag_tables():
    """Short tags by canonical spelling; run-together province names ("quangninh", "tphcm")."""
    g = _gazetteer()
    short = {canonical(tag): g.old[name] for tag, name in NEWSPAPER_TAGS.items()}
    names = {}
    for province in g.old.values():
        for name in (province.name, *PROVINCE_ALIASES.get(province.name, ())):
            names[_tag_folded(name)] = province
            names["tp" + _tag_folded(name)] = province
    return short, names


def find_newspaper_tag(tag):
    """The province of a newspaper's tag: "BĐ", "(HG)", "Báo Quảng Ngãi", "Thanhuytphcm.vn"; else None.

    Short tags must match with their diacritics ("BD" is not "BĐ"); longer ones
    are a newspaper's or party committee's name or web address.
    """
    tag = tag.strip().strip("()").strip()
    short, names = _tag_tables()
    if canonical(tag) in short:
        return short[canonical(tag)]
    folded = _tag_folded(tag.split(".")[0])
    for prefix in _TAG_PREFIXES:
        if folded.startswith(prefix) and folded[len(prefix) :] in names:
            return names[folded[len(prefix) :]]
    return None
