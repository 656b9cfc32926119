"""Whoosh's internals are used by the storage package alone (`index/store/`): upgrading whoosh3 or
changing how postings sit on disk then touches one package, whose byte-for-byte tests gate it."""

import ast

from tests.conftest import ROOT

INTERNALS = ("codec", "writing", "matching", "system", "util", "filedb", "reading")


def _whoosh_internals(path):
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [name for name in names if name.split(".")[:2] in (["whoosh", part] for part in INTERNALS)]
    return found


def test_whoosh_internals_are_imported_in_the_storage_package_only():
    store = ROOT / "index" / "store"
    outside = {str(path.relative_to(ROOT)): found
               for top in ("index", "search", "webui") for path in (ROOT / top).rglob("*.py")
               if store not in path.parents and (found := _whoosh_internals(path))}
    assert not outside
    assert _whoosh_internals(store / "reading.py"), "the check finds what it looks for"
