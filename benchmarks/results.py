"""What every benchmark records: the machine it ran on, and its results as JSON in
`benchmarks/out/` (beside the generated data the benchmarks cache there)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def machine() -> str:
    """Architecture, cores and Python version, as the benchmarks page quotes them."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def save(name: str, result: dict[str, Any]) -> Path:
    """Write `result` to benchmarks/out/`name` (indented JSON) and return the path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
