"""Build index/locality/data/gazetteer.json from the data files of vietnamadminunits 1.0.4 (MIT).

Run once by hand (`python tools/gazetteer_build.py [WHEEL_OR_DATA_DIR]`) after
`pip install vietnamadminunits==1.0.4`; the search engine itself only reads the
snapshot, so it never needs that package (which pulls shapely and geocodes
online). Only the package's JSON data files are read, none of its modules.
"""

import argparse
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent.parent / "index" / "locality" / "data" / "gazetteer.json"
SOURCE = "vietnamadminunits 1.0.4 (MIT): data/parser_legacy.json, parser_from_2025.json, converter_2025.json"

# The package names code 46 by its 2025 status ("Thành phố Huế"); in the 63-list
# era it was "Tỉnh Thừa Thiên Huế", the name news articles and labels use.
_LEGACY_RENAMES = {"46": ("Tỉnh", "Thừa Thiên Huế")}


def _installed_data_dir():
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("vietnamadminunits is not installed: pip install vietnamadminunits==1.0.4, or pass its wheel")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _reader(location):
    """A function name -> parsed JSON, reading from a wheel or a data folder."""
    if location is None:
        location = _installed_data_dir()
    location = Path(location)
    if location.suffix == ".whl":
        wheel = zipfile.ZipFile(location)
        return lambda name: json.loads(wheel.read(f"vietnamadminunits/data/{name}"))
    return lambda name: json.loads((location / name).read_text(encoding="utf-8"))


def _kind(full_name, short_name):
    """The type word of a unit: "Thành phố Hà Nội" -> "Thành phố"."""
    return full_name[: len(full_name) - len(short_name)].strip()


def _legacy_provinces(legacy, key_to_new_code):
    rows = []
    for key, p in legacy["DICT_PROVINCE"].items():
        kind, name = _LEGACY_RENAMES.get(p["provinceCode"], (_kind(p["province"], p["provinceShort"]), p["provinceShort"]))
        rows.append([p["provinceCode"], kind, name, key_to_new_code[key]])
    return sorted(rows)


def _districts(legacy):
    codes = {key: p["provinceCode"] for key, p in legacy["DICT_PROVINCE"].items()}
    rows = []
    for province_key, districts in legacy["DICT_PROVINCE_DISTRICT"].items():
        for d in districts.values():
            rows.append([codes[province_key], d["districtCode"], d["districtType"], d["districtShort"]])
    return sorted(rows, key=lambda r: r[1])


def build(location=None):
    """The snapshot as a dict: provinces (63), provinces_2025 (34), districts (696)."""
    read = _reader(location)
    legacy, current, converter = read("parser_legacy.json"), read("parser_from_2025.json"), read("converter_2025.json")
    new_code = {key: p["provinceCode"] for key, p in current["DICT_PROVINCE"].items()}
    key_to_new_code = {old: new_code[new] for new, olds in converter["DICT_PROVINCE"].items() for old in olds}
    provinces_2025 = sorted(
        [p["provinceCode"], _kind(p["province"], p["provinceShort"]), p["provinceShort"]]
        for p in current["DICT_PROVINCE"].values()
    )
    return {
        "source": SOURCE,
        "columns": {
            "provinces": ["code", "kind", "name", "code_2025"],
            "provinces_2025": ["code", "kind", "name"],
            "districts": ["province_code", "code", "kind", "name"],
        },
        "provinces": _legacy_provinces(legacy, key_to_new_code),
        "provinces_2025": provinces_2025,
        "districts": _districts(legacy),
    }


def write(snapshot, path=SNAPSHOT):
    """One row per line: small, and diffs stay readable."""
    lines = ["{"]
    keys = list(snapshot)
    for i, key in enumerate(keys):
        value = snapshot[key]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(value, list):
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            lines.append(f'  "{key}": [\n{rows}\n  ]{comma}')
        else:
            lines.append(f'  "{key}": {json.dumps(value, ensure_ascii=False)}{comma}')
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", help="the package's wheel or data folder (default: the installed package)")
    parser.add_argument("--out", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    snapshot = build(args.source)
    write(snapshot, args.out)
    counts = {k: len(v) for k, v in snapshot.items() if isinstance(v, list)}
    print(f"wrote {args.out}: {counts}")


if __name__ == "__main__":
    main()
