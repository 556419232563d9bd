"""What each package may import (docs/architecture.md), checked on the source.

The core must stay pure: no I/O library, no package above it. A planted
`import asyncio` in any core module, or `from streams.read import board`, fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

STREAMS = ROOT / "streams"
# Standard-library modules that do I/O, run concurrently or reach the network.
IO_STDLIB = frozenset(
    [
        "asyncio",
        "socket",
        "ssl",
        "selectors",
        "subprocess",
        "threading",
        "multiprocessing",
        "concurrent",
        "http",
        "urllib",
        "ftplib",
        "smtplib",
        "signal",
        "logging",
        "sqlite3",
        "shutil",
        "tempfile",
    ]
)
THIRD_PARTY_IN_CORE = frozenset({"orjson", "msgspec"})
# Package -> the streams packages and modules it may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "config": frozenset({"core"}),
    "read": frozenset({"core"}),
    "control": frozenset({"core", "config"}),
    "simulator": frozenset({"core"}),
    "connectors": frozenset({"core"}),
    "web": frozenset({"core", "read"}),
    "logs": frozenset(),
    "kafka_client": frozenset({"core"}),
    "runtimes": frozenset(
        {
            *("core", "config", "read", "control", "web", "simulator", "connectors"),
            *("logs", "kafka_client"),
        }
    ),
}


def package_of(path: Path) -> str:
    parts = path.relative_to(STREAMS).with_suffix("").parts
    return parts[0]


def streams_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pytest.fail(f"{path}:{node.lineno}: relative import; write the full module path")
            module = node.module or ""
            if module == "streams":
                found += [(node.lineno, f"streams.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return found


def violations(path: Path) -> list[str]:
    package = package_of(path)
    allowed = ALLOWED.get(package)
    out = []
    for line, module in streams_imports(path):
        top = module.split(".")[0]
        where = f"{path.relative_to(ROOT)}:{line}"
        if top == "streams":
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else ""
            if allowed is not None and target not in allowed | {package}:
                out.append(f"{where}: streams.{package} may not import {module}")
        elif package == "core" and top not in sys.stdlib_module_names | THIRD_PARTY_IN_CORE:
            out.append(f"{where}: the core may not import {module} (not pure)")
        if package == "core" and top in IO_STDLIB:
            out.append(f"{where}: the core may not import {module} (I/O)")
    return out


def test_every_package_imports_only_what_it_may() -> None:
    found = [v for path in sorted(STREAMS.rglob("*.py")) for v in violations(path)]
    assert found == []


def test_a_planted_import_is_caught(tmp_path: Path) -> None:
    """The walker itself works: each kind of violation is reported with its place."""
    planted = STREAMS / "core" / "_planted_for_test.py"
    planted.write_text("import asyncio\nfrom streams.read import board\nimport redis\n")
    try:
        found = violations(planted)
    finally:
        planted.unlink()
    assert found == [
        "streams/core/_planted_for_test.py:1: the core may not import asyncio (I/O)",
        "streams/core/_planted_for_test.py:2: streams.core may not import streams.read",
        "streams/core/_planted_for_test.py:3: the core may not import redis (not pure)",
    ]


def test_importing_the_core_loads_no_io_library() -> None:
    """At run time too (compiled or not): nothing the core imports pulls one in."""
    modules = sorted(
        f"streams.core.{p.stem}" for p in (STREAMS / "core").glob("*.py") if p.stem != "__init__"
    )
    forbidden = [
        *("asyncio", "socket", "ssl", "selectors", "subprocess", "threading", "signal"),
        *("multiprocessing", "concurrent.futures", "http.client", "urllib.request"),
        *("aiohttp", "faust", "aiokafka", "redis", "prometheus_client", "rocksdict"),
    ]
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        f"print(' '.join(m for m in {forbidden!r} if m in sys.modules))\n"
        "print(' '.join(m for m in sys.modules if m.startswith('streams.')"
        " and not m.startswith('streams.core')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == []


def test_the_command_line_and_the_embedded_runtime_load_redis_only_when_asked() -> None:
    """`floorwatch run` without [redis] and `floorwatch --help` never import the Redis
    client (about 5 MiB of a process, and a tenth of a second to start); `targets` and an
    embedded run with Redis configured import it when they reach it."""
    assert imported_by("streams.cli.main, streams.runtimes.embedded", ["redis"]) == []


def test_the_command_line_loads_each_client_only_for_the_command_that_uses_it() -> None:
    """Parsing a command line (every command's parser is built) imports no HTTP server,
    Kafka client, Faust or event loop: `floorwatch replay --help` takes 0.30 s instead
    of 0.55 s without them; each command imports its clients when it runs."""
    clients = ["aiohttp", "aiokafka", "faust", "uvloop", "redis"]
    assert imported_by("streams.cli.main", clients) == []


def imported_by(modules: str, names: list[str]) -> list[str]:
    """Which of `names` a fresh interpreter has imported after importing `modules`."""
    code = f"import sys\nimport {modules}\nprint(*[n for n in {names!r} if n in sys.modules])\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_no_test_module_imports_another() -> None:
    """Shared test code lives in tests/support; test modules import none of each other."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for line, module in streams_imports(path)
        if module.startswith("tests.") and module.rpartition(".")[2].startswith("test_")
    ]
    assert found == []
