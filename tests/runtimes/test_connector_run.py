"""`floorwatch run --format asterisk`: a supervisor's board from a live queue_log, read
with --follow from a real file that appears later, grows, is rotated and truncated, and
from standard input; wrap-ups end by the wall clock when no line comes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.helpers import Metrics
from tests.support.live import LiveFloorwatch, wait_for

pytestmark = pytest.mark.slow


def metric(live: LiveFloorwatch, name: str, **labels: str) -> float | None:
    return Metrics(live.get("/metrics")[1].decode()).get(name, **labels)


def agents(live: LiveFloorwatch, state: str) -> float | None:
    return metric(live, "contactcenter_agents", queue="billing", state=state)


def waiting(live: LiveFloorwatch) -> float | None:
    return metric(live, "contactcenter_contacts_waiting", queue="billing", channel="voice")


def append(path: Path, *lines: str) -> None:
    with path.open("a") as out:
        out.write("".join(f"{line}\n" for line in lines))


def test_follow_a_live_queue_log_through_rotation_and_truncation(tmp_path: Path) -> None:
    log_dir = tmp_path
    log = log_dir / "queue_log"  # not there yet: Asterisk has not written a line
    live = LiveFloorwatch("--source", str(log), "--format", "asterisk", "--follow", "--wrapup", "2")
    try:
        now = int(time.time())
        append(
            log,
            f"{now}|NONE|NONE|NONE|QUEUESTART|",
            f"{now}|MANAGER|billing|alice|ADDMEMBER|",
            f"{now}|{now}.1|billing|NONE|ENTERQUEUE||0151000001|1",
        )
        wait_for(lambda: waiting(live) == 1 and agents(live, "available") == 1, 10, "the call")
        append(log, f"{now}|{now}.1|billing|alice|CONNECT|0|{now}.2|1")
        wait_for(lambda: agents(live, "on_contact") == 1 and waiting(live) == 0, 10, "answered")

        # logrotate renames the log; Asterisk writes its last line there, then a new file.
        log.rename(log_dir / "queue_log.1")
        ended = int(time.time())
        append(log_dir / "queue_log.1", f"{ended}|{now}.1|billing|alice|COMPLETECALLER|0|3|1")
        append(log, f"{ended}|{ended}.3|billing|NONE|ENTERQUEUE||0151000002|1")
        wait_for(lambda: waiting(live) == 1, 10, "the call in the new file")
        # In wrap-up for 2 s after the end of the call, then available with no new line.
        wait_for(lambda: agents(live, "available") == 1, 10, "the end of the wrap-up")
        assert time.time() >= ended + 2
        window = {"queue": "billing", "channel": "voice", "window": "5m"}
        assert metric(live, "contactcenter_after_contact_work_seconds_average", **window) == 2

        # copytruncate: the file is emptied and written from its start again.
        with log.open("r+") as out:
            out.truncate(0)
        append(log, f"{int(time.time())}|{ended}.3|billing|NONE|ABANDON|1|1|5")
        wait_for(lambda: waiting(live) == 0, 10, "the abandon after the truncation")
        labels = {"queue": "billing", "channel": "voice"}
        assert metric(live, "contactcenter_contacts_offered_total", **labels) == 2
        assert metric(live, "contactcenter_contacts_answered_total", **labels) == 1
        board = live.board()
        assert "billing" in str(board)
    finally:
        assert live.stop() == 0


def test_standard_input_wrap_up_ends_when_the_input_is_quiet() -> None:
    live = LiveFloorwatch("--source", "-", "--format", "asterisk", "--wrapup", "1")
    try:
        now = int(time.time())
        assert live.process.stdin is not None
        live.process.stdin.write(
            (
                f"{now}|{now}.1|billing|NONE|ENTERQUEUE||0151000001|1\n"
                f"{now}|{now}.1|billing|bob|CONNECT|0|{now}.2|1\n"
                f"{now}|{now}.1|billing|bob|COMPLETEAGENT|0|0|1\n"
            ).encode()
        )
        live.process.stdin.flush()
        wait_for(lambda: agents(live, "available") == 1, 10, "bob available after 1 s wrap-up")
        labels = {"queue": "billing", "channel": "voice", "window": "5m"}
        assert metric(live, "contactcenter_after_contact_work_seconds_average", **labels) == 1
    finally:
        live.stop()
