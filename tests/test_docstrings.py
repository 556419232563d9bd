"""Every module says what it is in at most 5 lines; every public class in 2 to 5.

Longer design notes belong in docs/ (or beside the code they explain, as comments).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

STREAMS = ROOT / "streams"


def lines(docstring: str) -> int:
    return len(docstring.strip().splitlines())


def problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(ROOT)
    out = []
    module_doc = ast.get_docstring(tree)
    if path.name != "__main__.py" and (module_doc is None or lines(module_doc) > 5):
        out.append(f"{where}: module docstring missing or over 5 lines")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node)
            if doc is None or not 2 <= lines(doc) <= 5:
                out.append(f"{where}:{node.lineno}: class {node.name}: docstring of 2-5 lines")
    return out


def test_modules_and_public_classes_say_what_they_are() -> None:
    found = [p for path in sorted(STREAMS.rglob("*.py")) for p in problems(path)]
    assert found == []
