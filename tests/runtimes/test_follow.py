"""`--follow` like `tail -F`, against real files that grow, are rotated (renamed and
created again), truncated, or appear later. The follower is stepped by the test itself:
each step reads what the file holds now, so no step waits on time."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from streams.runtimes.follow import FileFollower, Position
from tests.support.live import wait_for

Item = tuple[bytes, Position] | None


def until_caught_up(lines: Iterator[Item]) -> list[tuple[bytes, Position]]:
    """Every line up to the next "caught up"."""
    out = []
    for item in lines:
        if item is None:
            return out
        out.append(item)
    raise AssertionError("the follower ended")


def follow(path: Path, notes: list[str], start: Position | None = None) -> Iterator[Item]:
    follower = FileFollower(
        str(path), follow=True, start=start, poll_seconds=0.001, note=notes.append
    )
    return follower.lines()


def test_a_growing_file_line_by_line_and_a_line_being_written(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n2|b\n")
    inode = os.stat(log).st_ino
    lines = follow(log, [])
    assert until_caught_up(lines) == [
        (b"1|a\n", Position(str(log), inode, 4)),
        (b"2|b\n", Position(str(log), inode, 8)),
    ]
    with log.open("ab") as out:
        out.write(b"3|c\n4|d-not-yet")
    assert until_caught_up(lines) == [(b"3|c\n", Position(str(log), inode, 12))]
    with log.open("ab") as out:
        out.write(b"-done\n")
    assert until_caught_up(lines) == [(b"4|d-not-yet-done\n", Position(str(log), inode, 29))]


def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n")
    old_inode = os.stat(log).st_ino
    notes: list[str] = []
    lines = follow(log, notes)
    assert [line for line, _ in until_caught_up(lines)] == [b"1|a\n"]
    rotated = tmp_path / "queue_log.1"
    log.rename(rotated)
    with rotated.open("ab") as out:  # Asterisk writes on until it reopens its log
        out.write(b"2|b\n")
    log.write_bytes(b"3|c\n")
    new_inode = os.stat(log).st_ino
    assert until_caught_up(lines) == [
        (b"2|b\n", Position(str(log), old_inode, 8)),
        (b"3|c\n", Position(str(log), new_inode, 4)),
    ]
    assert notes == [f"{log}: rotated; reading the new file from its start"]


def test_truncation_reads_the_file_again_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n2|b\n")
    notes: list[str] = []
    lines = follow(log, notes)
    until_caught_up(lines)
    with log.open("r+b") as out:  # logrotate's copytruncate
        out.truncate(0)
    with log.open("ab") as out:
        out.write(b"3|c\n")
    assert [(line, p.offset) for line, p in until_caught_up(lines)] == [(b"3|c\n", 4)]
    assert notes == [f"{log}: truncated; reading it again from its start"]


def test_a_file_that_appears_later(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    got: list[bytes] = []
    stop = threading.Event()
    follower = FileFollower(str(log), follow=True, poll_seconds=0.01)

    def read() -> None:
        for item in follower.lines(stop):
            if item is not None:
                got.append(item[0])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert got == []
    log.write_bytes(b"1|a\n")
    wait_for(lambda: got == [b"1|a\n"], 10, "the line of the file created later")
    stop.set()
    reader.join(10)
    assert not reader.is_alive()


def test_resuming_at_a_saved_position_also_in_the_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n2|b\n3|c\n")
    saved = Position(str(log), os.stat(log).st_ino, 4)
    notes: list[str] = []
    assert [line for line, _ in until_caught_up(follow(log, notes, saved))] == [
        b"2|b\n",
        b"3|c\n",
    ]
    assert notes == [f"{log}: resuming at byte 4"]
    log.rename(tmp_path / "queue_log-20261206")
    log.write_bytes(b"4|d\n")
    notes.clear()
    assert [line for line, _ in until_caught_up(follow(log, notes, saved))] == [
        b"2|b\n",
        b"3|c\n",
        b"4|d\n",
    ]
    assert notes[0] == (
        f"{log}: rotated since the last run; finishing {tmp_path / 'queue_log-20261206'} first"
    )


def test_without_follow_it_stops_at_the_end(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"1|a\n2|b-no-newline")
    lines = list(FileFollower(str(log), follow=False).lines())
    assert [item[0] for item in lines if item is not None] == [b"1|a\n", b"2|b-no-newline"]
