"""Where the repository's files are, for tests that read or run them."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "support" / "schemas"
