"""`floorwatch replay` of input it cannot use: no line accepted is exit 1 with one line
saying what the input seems to be; an empty input is fine; a byte order mark is no
reason to refuse a line; parked events of a contact that never queued end as rejects."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.support.helpers import T0, floorwatch, iso

pytestmark = pytest.mark.slow

BOM = b"\xef\xbb\xbf"
FUTURE = 4102444800.0  # 2100-01-01: ahead of any test machine's clock


def event(event_id: str, type_: str, at: float, contact_id: str, **fields: object) -> bytes:
    body = {"event_id": event_id, "type": type_, "occurred_at": iso(at), "contact_id": contact_id}
    return json.dumps({**body, **fields}).encode()


def queued(event_id: str, at: float, contact_id: str) -> bytes:
    return event(event_id, "contact.queued", at, contact_id, queue="support", channel="voice")


def metric(text: str, name: str) -> float:
    [line] = [
        ln for ln in text.splitlines() if ln.startswith(name + " ") or ln.startswith(name + "{")
    ]
    return float(line.rsplit(" ", 1)[1])


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "ls",
            Path("/bin/ls").read_bytes(),
            "ls is not text (binary data): give a JSON Lines file of events",
        ),
        (
            "day.jsonl.gz",
            gzip.compress(queued("q1", T0, "c1") + b"\n"),
            "day.jsonl.gz is gzip-compressed: decompress it first: "
            "zcat day.jsonl.gz | floorwatch replay -",
        ),
        (
            "rows.jsonl",
            b'{"id": 1}\n[1, 2]\n{"id": 2}\n',
            "rows.jsonl is JSON but not events of the contract (missing_field 2, not_an_object 1)",
        ),
        (
            "notes.txt",
            b"call back Monday\nqueue was long\n",
            "notes.txt is not JSON Lines: no line is a JSON object (invalid_json 2)",
        ),
        (
            "future.jsonl",
            queued("q1", FUTURE, "c1") + b"\n" + queued("q2", FUTURE + 1, "c2") + b"\n",
            "every event of future.jsonl is more than 5 minutes ahead of this machine's "
            "clock: check the source's clock (or this one's)",
        ),
    ],
)
def test_an_input_of_which_no_line_is_accepted_is_refused_with_what_it_seems(
    tmp_path: Path, name: str, content: bytes, said: str
) -> None:
    (tmp_path / name).write_bytes(content)
    done = floorwatch("replay", name, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"floorwatch replay: no event accepted: {said}\n"
    assert done.stdout == ""  # no page of zeros


def test_gzip_on_standard_input_and_an_empty_input(tmp_path: Path) -> None:
    done = floorwatch("replay", "-", cwd=tmp_path, stdin=b"\x1f\x8b\x08\x00")
    assert (done.returncode, done.stderr) == (
        1,
        "floorwatch replay: no event accepted: standard input is gzip-compressed: "
        "decompress it first: zcat FILE | floorwatch replay -\n",
    )
    (tmp_path / "empty.jsonl").write_bytes(b"")
    empty = floorwatch("replay", "empty.jsonl", cwd=tmp_path)
    assert (empty.returncode, empty.stderr) == (0, "")
    assert metric(empty.stdout, "contactcenter_events_parked") == 0


@pytest.mark.parametrize("decode", ["on", "off"])
def test_a_byte_order_mark_on_the_first_line_is_dropped(tmp_path: Path, decode: str) -> None:
    """Two contact.queued events, the first behind a BOM: both processed, none rejected,
    in this process and in the decoding child."""
    lines = BOM + queued("q1", T0, "c1") + b"\n" + queued("q2", T0 + 1, "c2") + b"\n"
    (tmp_path / "bom.jsonl").write_bytes(lines)
    done = floorwatch("replay", "bom.jsonl", "--decode-process", decode, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert metric(done.stdout, 'contactcenter_events_processed_total{type="contact.queued"}') == 2


@pytest.mark.parametrize("decode", ["on", "off"])
def test_a_byte_order_mark_before_a_connector_record_is_dropped(
    tmp_path: Path, decode: str
) -> None:
    """An Asterisk queue_log whose first line (ENTERQUEUE) has a BOM: one contact queued."""
    log = BOM + b"1795338010|1795338010.1|billing|NONE|ENTERQUEUE||0151000001|1\n"
    (tmp_path / "queue_log").write_bytes(log)
    command = ("replay", "queue_log", "--format", "asterisk", "--decode-process", decode)
    done = floorwatch(*command, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert metric(done.stdout, 'contactcenter_events_processed_total{type="contact.queued"}') == 1


def test_a_parked_event_whose_contact_never_queued_is_rejected_at_the_end(tmp_path: Path) -> None:
    """c1 queues; c9 is answered but never queued (parked, 60 s of hold not yet over at
    the end): at the end of the replay it is an unknown_contact reject, none parked."""
    lines = [
        queued("q1", T0, "c1"),
        event("a9", "contact.answered", T0 + 5, "c9", agent_id="a1"),
        queued("q2", T0 + 10, "c2"),
    ]
    (tmp_path / "day.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    done = floorwatch("replay", "day.jsonl", "--rejects-out", "rejects.jsonl", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr == "floorwatch replay: rejected 1 event(s): unknown_contact 1\n"
    assert metric(done.stdout, "contactcenter_events_parked") == 0
    assert metric(done.stdout, 'contactcenter_events_rejected_total{reason="unknown_contact"}') == 1
    [reject] = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert reject == {
        "reason": "unknown_contact",
        "detail": "contact.answered a9: contact c9 never queued",
    }
