"""A progress line on a terminal for long-running commands (nothing when not a terminal)."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """The progress line of `floorwatch replay` and `simulate`: redraws `label: N lines
    (P %), R lines/s` at most four times a second (the share only when the total size is
    known); `finish` writes the final count and time."""

    def __init__(self, out: TextIO, label: str, total_bytes: int | None) -> None:
        self.out = out
        self.label = label
        self.total_bytes = total_bytes
        self.started = time.monotonic()
        self._last_draw = 0.0

    def update(self, count: int, position: int | None) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.25:
            return
        self._last_draw = now
        rate = count / max(now - self.started, 1e-9)
        share = ""
        if position is not None and self.total_bytes:
            share = f" ({100.0 * position / self.total_bytes:5.1f} %)"
        self.out.write(f"\r{self.label}: {count:,} lines{share}, {rate:,.0f} lines/s ")
        self.out.flush()

    def finish(self, count: int) -> None:
        elapsed = time.monotonic() - self.started
        self.out.write(f"\r{self.label}: {count:,} lines in {elapsed:.1f} s" + " " * 20 + "\n")
        self.out.flush()
