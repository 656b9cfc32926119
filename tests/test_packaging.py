"""What `pip install .` (not editable) ships: every package and every file the app reads at run time.

A template left out of package-data is a 500 on its route only in a real install (as /opensearch.xml was)."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from tests.conftest import ROOT

TOP_LEVEL = ("index", "search", "webui")


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]


def _folder(package):
    """Where a package's files are in the repository (pyproject's package-dir maps the sample articles)."""
    return ROOT / _setuptools().get("package-dir", {}).get(package, Path(*package.split(".")))


def test_every_package_is_installed():
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for top in TOP_LEVEL for init in (ROOT / top).rglob("__init__.py")}
    mapped = set(_setuptools().get("package-dir", {}))
    assert found and set(_setuptools()["packages"]) == found | mapped


def test_the_sample_articles_are_installed_with_the_command_that_indexes_them():
    assert _folder("webui.seeds") == ROOT / "seeds" and "webui.seeds" in _setuptools()["packages"]


def test_every_data_file_of_a_package_is_in_its_package_data():
    packages, package_data = _setuptools()["packages"], _setuptools()["package-data"]
    missing = []
    for package in packages:
        folder = _folder(package)
        subpackages = {_folder(p) for p in packages if p.startswith(package + ".")}
        for path in folder.rglob("*"):
            if (path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts
                    or any(sub in path.parents for sub in subpackages)):
                continue
            name = path.relative_to(folder).as_posix()
            if not any(fnmatch(name, pattern) for pattern in package_data.get(package, ())):
                missing.append(f"{package}: {name}")
    assert not missing, f"not in pyproject's package-data: {missing}"
