#!/usr/bin/env python3
"""Write grafana/dashboards/*.json from the dashboards as code in grafana/src/.

    python grafana/generate.py           # (re)write the dashboards
    python grafana/generate.py --check   # exit 1 with a diff when the committed JSON drifts

Never edit grafana/dashboards/*.json by hand: change grafana/src/ and regenerate.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src"))

from floorwatch_dashboards import DASHBOARDS  # noqa: E402
from floorwatch_dashboards.common import ANNOTATION_EXTRAS  # noqa: E402
from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402

OUTPUT = HERE / "dashboards"


def render(build: Any) -> str:
    """The dashboard JSON as committed: SDK model, plus the Prometheus annotation fields the
    SDK's AnnotationQuery model lacks, keys sorted, two-space indent, final newline."""
    data = json.loads(json.dumps(build(), cls=JSONEncoder))
    for annotation in data.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            annotation.update(ANNOTATION_EXTRAS)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    return {f"{name}.json": render(build) for name, build in DASHBOARDS.items()}


def check(output: Path) -> int:
    drift = False
    expected = rendered()
    for name, text in expected.items():
        path = output / name
        current = path.read_text() if path.exists() else ""
        if current != text:
            drift = True
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"{path} (committed)",
                    f"{path} (generated)",
                )
            )
    for path in sorted(output.glob("*.json")):
        if path.name not in expected:
            drift = True
            print(f"{path}: not written by grafana/generate.py (remove it or add its source)")
    if drift:
        print("dashboards drifted from grafana/src/: run `python grafana/generate.py`")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail with a diff on drift")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT, help="default: %(default)s")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.output_dir)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (args.output_dir / name).write_text(text)
        print(f"wrote {args.output_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
