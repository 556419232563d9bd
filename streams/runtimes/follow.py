"""Reading a file line by line like `tail -F`: a file that appears later, grows, is rotated
(renamed and created again) or truncated; each line with the position after it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

POLL_SECONDS = 0.2
READ_LINES = 4096


@dataclass(frozen=True)
class Position:
    """Where a file source stands: its path, the inode of the file being read there (a
    rotated file keeps its inode under another name) and the byte offset after the last
    line handed on."""

    path: str
    inode: int
    offset: int

    def dump(self) -> dict[str, object]:
        return {"path": self.path, "inode": self.inode, "offset": self.offset}

    @staticmethod
    def load(value: dict[str, object]) -> Position:
        inode, offset = value["inode"], value["offset"]
        assert isinstance(inode, int) and isinstance(offset, int)
        return Position(str(value["path"]), inode, offset)


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def find_rotated(position: Position) -> str | None:
    """The file that holds `position`'s inode now, in the same directory (logrotate renames
    queue_log to queue_log.1 or queue_log-20261206), or None."""
    folder = Path(position.path).parent
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    for entry in entries:
        try:
            if entry.is_file() and entry.inode() == position.inode:
                return entry.path
        except OSError:
            continue
    return None


class FileFollower:
    """Lines of the file at `path`, each with the `Position` after it. With `follow`, like
    `tail -F`: None whenever caught up; waits for the file to appear or grow; a rotated
    file is read to its end, then the new one from its start; a truncated one from its
    start again. `start` resumes a saved position (in the rotated file if it moved)."""

    def __init__(
        self,
        path: str,
        *,
        follow: bool,
        start: Position | None = None,
        poll_seconds: float = POLL_SECONDS,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.follow = follow
        self.start = start
        self.poll_seconds = poll_seconds
        self.note = note or (lambda _message: None)

    def lines(self, stop: threading.Event | None = None) -> Iterator[tuple[bytes, Position] | None]:
        stop = stop or threading.Event()
        handle, offset = self._first(stop)
        if handle is None:
            return
        partial = b""
        try:
            while not stop.is_set():
                inode = os.fstat(handle.fileno()).st_ino
                got = 0
                for line in _read_lines(handle):
                    got += 1
                    if not line.endswith(b"\n"):
                        partial += line  # a line still being written
                        break
                    if partial:
                        line, partial = partial + line, b""
                    offset += len(line)
                    yield line, Position(self.path, inode, offset)
                if got:
                    continue
                # Caught up with this file.
                current = _inode(self.path)
                if current is not None and current != inode:  # rotated: the rest, then anew
                    if partial:
                        offset += len(partial)
                        yield partial, Position(self.path, inode, offset)
                        partial = b""
                    handle.close()
                    opened = self._open(self.path)
                    if opened is None:
                        continue
                    handle, offset = opened, 0
                    self.note(f"{self.path}: rotated; reading the new file from its start")
                    continue
                if os.fstat(handle.fileno()).st_size < offset:  # truncated (copytruncate)
                    handle.seek(0)
                    offset, partial = 0, b""
                    self.note(f"{self.path}: truncated; reading it again from its start")
                    continue
                if not self.follow:
                    if partial:
                        offset += len(partial)
                        yield partial, Position(self.path, inode, offset)
                    return
                yield None
                stop.wait(self.poll_seconds)
        finally:
            handle.close()

    def _open(self, path: str) -> BinaryIO | None:
        try:
            return open(path, "rb")  # closed by `lines`
        except FileNotFoundError:
            return None

    def _first(self, stop: threading.Event) -> tuple[BinaryIO | None, int]:
        """The file and offset to start at: the saved position (in the file that now holds
        its inode), else the start of the file at `path` (waited for when following)."""
        start = self.start
        if start is not None:
            if _inode(self.path) == start.inode:
                handle = self._open(self.path)
                if handle is not None:
                    size = os.fstat(handle.fileno()).st_size
                    if size >= start.offset:
                        handle.seek(start.offset)
                        self.note(f"{self.path}: resuming at byte {start.offset}")
                        return handle, start.offset
                    self.note(
                        f"{self.path}: shorter than the saved position; reading it from its start"
                    )
                    return handle, 0
            moved = find_rotated(start)
            if moved is not None:
                handle = self._open(moved)
                if handle is not None:
                    handle.seek(start.offset)
                    # The rest of the old file; at its end the inode at `path` differs,
                    # so the new file follows from its start.
                    self.note(f"{self.path}: rotated since the last run; finishing {moved} first")
                    return handle, start.offset
            self.note(
                f"{self.path}: the file of the saved position is gone; reading the current "
                "file from its start (lines after the saved position in the old one are lost)"
            )
        while True:
            handle = self._open(self.path)
            if handle is not None or not self.follow or stop.is_set():
                if handle is None:
                    raise FileNotFoundError(self.path)
                return handle, 0
            stop.wait(self.poll_seconds)


def _read_lines(handle: BinaryIO) -> Iterator[bytes]:
    while True:
        lines = handle.readlines(1 << 20)
        if not lines:
            return
        yield from lines
