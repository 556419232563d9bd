"""The Asterisk queue_log connector against lines written by hand from Asterisk's
documentation (docs.asterisk.org, Operation > Logging > Queue Logs) and what
apps/app_queue.c really writes (ADDMEMBER with PAUSED, PAUSE with a reason, PAUSEALL with
the queue NONE, BLINDTRANSFER and ATTENDEDTRANSFER, RINGNOANSWER in milliseconds).
Every expected value is worked out by hand in the comments beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.config import settings_from_mapping
from streams.connectors import AsteriskOptions, QueueLogConnector, queue_label, vendor_queue
from streams.core.intake import Rejection
from streams.read.exporter import exposition
from streams.runtimes.replay import replay
from tests.support.helpers import Feed, Metrics

FIXTURES = Path(__file__).parent / "fixtures"
T = 1795338000  # 2026-11-22T09:00:00Z
MS = 1000


def run(lines: str, options: AsteriskOptions | None = None, flush: bool = True) -> list[Any]:
    """Every output of the lines (events without their ids, rejections as (reason,))."""
    connector = QueueLogConnector(options)
    out: list[Any] = []
    for line in lines.strip().splitlines():
        out += connector.feed(line.strip().encode())
    if flush:
        out += connector.flush()
    return [plain(item) for item in out]


def plain(item: dict[str, Any] | Rejection) -> Any:
    if isinstance(item, Rejection):
        return (item.reason,)
    return {k: v for k, v in item.items() if k != "event_id"}


def state(at: int, agent: str, state_: str, queues: list[str], reason: str | None = None) -> dict:
    event = {
        "type": "agent.state",
        "occurred_at": at * MS,
        "agent_id": agent,
        "state": state_,
        "queues": queues,
    }
    if reason is not None:
        event["reason"] = reason
    return event


def contact(type_: str, at: int, call: str, **fields: Any) -> dict:
    return {"type": type_, "occurred_at": at * MS, "contact_id": call, **fields}


def queued(at: int, call: str, queue: str) -> dict:
    return contact("contact.queued", at, call, queue=queue, channel="voice")


# ---------------------------------------------------------------- one line at a time


def test_answered_call_with_wrap_up_from_configuration() -> None:
    """Asterisk writes no wrap-up event: with wrapuptime 10 the member is in wrap-up from
    COMPLETEAGENT (t+142) to t+152, when the contact is wrapped and the member available."""
    lines = """
    1795338001|MANAGER|billing|alice|ADDMEMBER|
    1795338010|1795338010.1|billing|NONE|ENTERQUEUE||0151000001|1
    1795338022|1795338010.1|billing|alice|CONNECT|12|1795338022.2|8
    1795338142|1795338010.1|billing|alice|COMPLETEAGENT|12|120|1
    """
    assert run(lines, AsteriskOptions(wrapup_by_queue={"billing": 10})) == [
        state(T + 1, "alice", "available", ["billing"]),
        queued(T + 10, "1795338010.1", "billing"),
        state(T + 22, "alice", "on_contact", ["billing"]),
        contact("contact.answered", T + 22, "1795338010.1", agent_id="alice"),
        contact("contact.ended", T + 142, "1795338010.1"),
        state(T + 142, "alice", "after_contact_work", ["billing"]),
        contact("contact.wrapped", T + 152, "1795338010.1"),
        state(T + 152, "alice", "available", ["billing"]),
    ]


def test_without_wrap_up_the_contact_is_wrapped_when_it_ends() -> None:
    lines = """
    1795338010|1795338010.1|billing|NONE|ENTERQUEUE||0151000001|1
    1795338022|1795338010.1|billing|alice|CONNECT|12|1795338022.2|8
    1795338142|1795338010.1|billing|alice|COMPLETECALLER|12|120|1
    """
    assert run(lines) == [
        queued(T + 10, "1795338010.1", "billing"),
        # a static member (queues.conf) logs no ADDMEMBER: known from its first line
        state(T + 22, "alice", "on_contact", ["billing"]),
        contact("contact.answered", T + 22, "1795338010.1", agent_id="alice"),
        contact("contact.ended", T + 142, "1795338010.1"),
        contact("contact.wrapped", T + 142, "1795338010.1"),
        state(T + 142, "alice", "available", ["billing"]),
    ]


def test_call_abandoned_after_ring_no_answers() -> None:
    """RINGNOANSWER's data is the ring time in milliseconds (app_queue.c: rnatime)."""
    lines = """
    1795338030|1795338030.3|billing|NONE|ENTERQUEUE||0151000002|1
    1795338045|1795338030.3|billing|bob|RINGNOANSWER|15000
    1795338061|1795338030.3|billing|carol|RINGNOANSWER|15500
    1795338070|1795338030.3|billing|NONE|ABANDON|1|1|40
    """
    call = "1795338030.3"
    assert run(lines) == [
        queued(T + 30, call, "billing"),
        state(T + 45, "bob", "available", ["billing"]),
        contact("contact.missed", T + 45, call, agent_id="bob", ring_seconds=15.0),
        state(T + 61, "carol", "available", ["billing"]),
        contact("contact.missed", T + 61, call, agent_id="carol", ring_seconds=15.5),
        contact("contact.abandoned", T + 70, call),
    ]


def test_blind_transfer_into_another_queue_is_a_move() -> None:
    """The transferred caller keeps its uniqueid and enters `sales` at once: one
    contact.queued (the engine counts it transferred out of billing); bob wraps up 10 s
    for billing, and no contact.wrapped follows (the contact is in sales by then)."""
    lines = """
    1795338100|1795338100.4|billing|NONE|ENTERQUEUE||0151000003|1
    1795338118|1795338100.4|billing|bob|CONNECT|18|1795338118.5|2
    1795338178|1795338100.4|billing|bob|BLINDTRANSFER|700|from-internal|18|60|1
    1795338178|1795338100.4|sales|NONE|ENTERQUEUE||0151000003|1
    1795338184|1795338100.4|sales|carol|CONNECT|6|1795338184.7|1
    1795338304|1795338100.4|sales|carol|COMPLETECALLER|6|120|1
    """
    call = "1795338100.4"
    assert run(lines, AsteriskOptions(wrapup_by_queue={"billing": 10})) == [
        queued(T + 100, call, "billing"),
        state(T + 118, "bob", "on_contact", ["billing"]),
        contact("contact.answered", T + 118, call, agent_id="bob"),
        state(T + 178, "bob", "after_contact_work", ["billing"]),
        queued(T + 178, call, "sales"),
        state(T + 184, "carol", "on_contact", ["sales"]),
        contact("contact.answered", T + 184, call, agent_id="carol"),
        state(T + 188, "bob", "available", ["billing"]),  # released by the next line
        contact("contact.ended", T + 304, call),
        contact("contact.wrapped", T + 304, call),
        state(T + 304, "carol", "available", ["sales"]),
    ]


def test_the_first_members_wrap_up_does_not_wrap_the_moved_contact() -> None:
    """bob's wrap-up (billing, 10 s) ends at t+188, after carol's short call in sales
    ended (t+186): the contact is wrapped when carol's wrap-up (sales, 200 s) ends."""
    lines = """
    1795338100|1795338100.4|billing|NONE|ENTERQUEUE||0151000003|1
    1795338118|1795338100.4|billing|bob|CONNECT|18|1795338118.5|2
    1795338178|1795338100.4|billing|bob|BLINDTRANSFER|700|from-internal|18|60|1
    1795338178|1795338100.4|sales|NONE|ENTERQUEUE||0151000003|1
    1795338184|1795338100.4|sales|carol|CONNECT|6|1795338184.7|1
    1795338186|1795338100.4|sales|carol|COMPLETECALLER|6|2|1
    """
    options = AsteriskOptions(wrapup_by_queue={"billing": 10, "sales": 200})
    out = run(lines, options)
    assert [e for e in out if e["type"] == "contact.wrapped"] == [
        contact("contact.wrapped", T + 386, "1795338100.4")
    ]
    assert out[-3:] == [
        state(T + 188, "bob", "available", ["billing"]),
        contact("contact.wrapped", T + 386, "1795338100.4"),
        state(T + 386, "carol", "available", ["sales"]),
    ]


def test_transfer_to_an_extension_ends_the_call_after_the_requeue_window() -> None:
    """ATTENDEDTRANSFER (BRIDGE|id|holdtime|calltime|origposition) and no queue after it:
    once a line past t+562+5 arrives, the call ended at the transfer, wrapped then."""
    lines = """
    1795338500|1795338500.10|sales|NONE|ENTERQUEUE||0151000007|1
    1795338502|1795338500.10|sales|alice|CONNECT|2|1795338502.11|1
    1795338562|1795338500.10|sales|alice|ATTENDEDTRANSFER|BRIDGE|1795338540.12|2|60|1
    1795338567|NONE|sales|dave|ADDMEMBER|
    1795338568|NONE|sales|erin|ADDMEMBER|
    """
    call = "1795338500.10"
    assert run(lines, flush=False) == [
        queued(T + 500, call, "sales"),
        state(T + 502, "alice", "on_contact", ["sales"]),
        contact("contact.answered", T + 502, call, agent_id="alice"),
        state(T + 562, "alice", "available", ["sales"]),
        state(T + 567, "dave", "available", ["sales"]),  # t+567 = 562 + 5: still undecided
        contact("contact.ended", T + 562, call),
        contact("contact.wrapped", T + 562, call),
        state(T + 568, "erin", "available", ["sales"]),
    ]


@pytest.mark.parametrize(
    ("event", "data", "kind"),
    [
        ("EXITWITHTIMEOUT", "1|1|60", "timeout"),
        ("EXITEMPTY", "1|1|60", "empty"),
        ("EXITWITHKEY", "5|1|1|60", "key"),
    ],
)
def test_exits_that_no_queue_takes_count_as_abandoned_by_default(
    event: str, data: str, kind: str
) -> None:
    lines = f"""
    1795338200|1795338200.8|billing|NONE|ENTERQUEUE||0151000005|1
    1795338260|1795338200.8|billing|NONE|{event}|{data}
    """
    call = "1795338200.8"
    abandoned = contact("contact.abandoned", T + 260, call, reason=kind)
    assert run(lines) == [queued(T + 200, call, "billing"), abandoned]
    flowout = AsteriskOptions(exits={kind: "flowout"})
    ended = contact("contact.ended", T + 260, call, reason=kind)
    assert run(lines, flowout) == [queued(T + 200, call, "billing"), ended]


def test_timeout_into_another_queue_is_a_move_not_an_abandon() -> None:
    lines = """
    1795338200|1795338200.8|billing|NONE|ENTERQUEUE||0151000005|1
    1795338260|1795338200.8|billing|NONE|EXITWITHTIMEOUT|1|1|60
    1795338265|1795338200.8|sales|NONE|ENTERQUEUE||0151000005|1
    """
    call = "1795338200.8"
    assert run(lines) == [queued(T + 200, call, "billing"), queued(T + 265, call, "sales")]
    # One second later than the window: abandoned in billing, then queued again.
    late = lines.replace("1795338265|", "1795338266|")
    assert run(late) == [
        queued(T + 200, call, "billing"),
        contact("contact.abandoned", T + 260, call, reason="timeout"),
        queued(T + 266, call, "sales"),
    ]


def test_an_exit_is_decided_by_the_live_clock_once_the_window_has_passed() -> None:
    connector = QueueLogConnector()
    connector.feed(b"1795338200|1795338200.8|billing|NONE|ENTERQUEUE||0151000005|1")
    connector.feed(b"1795338260|1795338200.8|billing|NONE|EXITEMPTY|1|1|60")
    assert connector.advance(T + 265) == []  # the window is t+260..t+265 inclusive
    assert [plain(e) for e in connector.advance(T + 265.5)] == [
        contact("contact.abandoned", T + 260, "1795338200.8", reason="empty")
    ]
    assert connector.flush() == []


def test_member_paused_with_a_reason() -> None:
    """ADDMEMBER|PAUSED, then PAUSEALL (queue NONE) with its reason and the per-queue PAUSE
    lines app_queue writes after it; a member paused in some queues only is available in
    the others."""
    lines = """
    1795338003|MANAGER|billing|dave|ADDMEMBER|
    1795338003|MANAGER|sales|dave|ADDMEMBER|PAUSED
    1795338004|NONE|NONE|dave|PAUSEALL|Lunch
    1795338004|NONE|billing|dave|PAUSE|Lunch
    1795338004|NONE|sales|dave|PAUSE|Lunch
    1795338600|NONE|billing|dave|UNPAUSE|
    1795338601|NONE|NONE|dave|UNPAUSEALL|
    1795338601|NONE|sales|dave|UNPAUSE|
    """
    assert run(lines) == [
        state(T + 3, "dave", "available", ["billing"]),
        state(T + 4, "dave", "away", ["billing", "sales"], reason="Lunch"),
        state(T + 600, "dave", "available", ["billing"]),
        state(T + 601, "dave", "available", ["billing", "sales"]),
    ]


def test_caller_who_hangs_up_during_the_members_wrap_up() -> None:
    """The member stays in wrap-up while another caller abandons; a new call before the
    wrap-up ends ends it at once (the previous contact is wrapped then)."""
    lines = """
    1795338010|1795338010.1|billing|NONE|ENTERQUEUE||0151000001|1
    1795338022|1795338010.1|billing|alice|CONNECT|12|1795338022.2|8
    1795338140|1795338140.6|billing|NONE|ENTERQUEUE||0151000004|1
    1795338142|1795338010.1|billing|alice|COMPLETECALLER|12|120|1
    1795338150|1795338140.6|billing|NONE|ABANDON|1|1|10
    1795338160|1795338160.7|sales|NONE|ENTERQUEUE||0151000005|1
    1795338165|1795338160.7|sales|alice|CONNECT|5|1795338165.8|1
    """
    assert run(lines, AsteriskOptions(wrapup_seconds=30)) == [
        queued(T + 10, "1795338010.1", "billing"),
        state(T + 22, "alice", "on_contact", ["billing"]),
        contact("contact.answered", T + 22, "1795338010.1", agent_id="alice"),
        queued(T + 140, "1795338140.6", "billing"),
        contact("contact.ended", T + 142, "1795338010.1"),
        state(T + 142, "alice", "after_contact_work", ["billing"]),
        contact("contact.abandoned", T + 150, "1795338140.6"),  # alice still in wrap-up
        queued(T + 160, "1795338160.7", "sales"),
        contact("contact.wrapped", T + 165, "1795338010.1"),  # 23 s into 30 s of wrap-up
        state(T + 165, "alice", "on_contact", ["billing", "sales"]),
        contact("contact.answered", T + 165, "1795338160.7", agent_id="alice"),
    ]


def test_agent_logins_new_and_old() -> None:
    """app_agent_pool (Asterisk 12+) writes AGENTLOGIN|channel and AGENTLOGOFF|channel|
    logintime with the queue NONE; chan_agent's callback agents AGENTCALLBACKLOGIN|
    exten@context and AGENTCALLBACKLOGOFF|exten@context|logintime|reason."""
    lines = """
    1795339000|1795339000.1|NONE|Agent/1001|AGENTLOGIN|PJSIP/1001-00000001
    1795339010|1795339010.2|billing|NONE|ENTERQUEUE||0151000009|1
    1795339012|1795339010.2|billing|Agent/1001|CONNECT|2|1795339012.3|1
    1795339100|1795339010.2|billing|Agent/1001|COMPLETEAGENT|2|88|1
    1795339200|1795339000.1|NONE|Agent/1001|AGENTLOGOFF|PJSIP/1001-00000001|200
    1795339300|NONE|NONE|Agent/1002|AGENTCALLBACKLOGIN|1002@default
    1795339400|NONE|NONE|Agent/1002|AGENTCALLBACKLOGOFF|1002@default|100|CommandLogoff
    """
    assert run(lines) == [
        state(T + 1000, "Agent/1001", "available", []),  # logged in, in no queue named yet
        queued(T + 1010, "1795339010.2", "billing"),
        state(T + 1012, "Agent/1001", "on_contact", ["billing"]),
        contact("contact.answered", T + 1012, "1795339010.2", agent_id="Agent/1001"),
        contact("contact.ended", T + 1100, "1795339010.2"),
        contact("contact.wrapped", T + 1100, "1795339010.2"),
        state(T + 1100, "Agent/1001", "available", ["billing"]),
        state(T + 1200, "Agent/1001", "offline", []),
        state(T + 1300, "Agent/1002", "available", []),
        state(T + 1400, "Agent/1002", "offline", []),
    ]


def test_removed_from_every_queue_is_offline() -> None:
    lines = """
    1795338001|MANAGER|billing|carol|ADDMEMBER|
    1795338002|MANAGER|sales|carol|ADDMEMBER|
    1795338700|MANAGER|billing|carol|REMOVEMEMBER|
    1795338701|MANAGER|sales|carol|REMOVEMEMBER|
    """
    assert run(lines) == [
        state(T + 1, "carol", "available", ["billing"]),
        state(T + 2, "carol", "available", ["billing", "sales"]),
        state(T + 700, "carol", "available", ["sales"]),
        state(T + 701, "carol", "offline", []),
    ]


def test_extra_and_missing_data_fields() -> None:
    """Durations come from the epochs, not the data fields: extra fields (the caller's
    name of log-caller-id-name, more) are ignored, missing ones change nothing; a ring time
    that is not a number is left out."""
    lines = """
    1795338800|1795338800.18|billing|NONE|ENTERQUEUE||0151000008|1|Jane Doe|extra
    1795338805|1795338800.18|billing|bob|RINGNOANSWER|soon
    1795338812|1795338800.18|billing|dave|CONNECT
    1795338872|1795338800.18|billing|dave|COMPLETEAGENT|12
    """
    call = "1795338800.18"
    assert run(lines) == [
        queued(T + 800, call, "billing"),
        state(T + 805, "bob", "available", ["billing"]),
        contact("contact.missed", T + 805, call, agent_id="bob"),
        state(T + 812, "dave", "on_contact", ["billing"]),
        contact("contact.answered", T + 812, call, agent_id="dave"),
        contact("contact.ended", T + 872, call),
        contact("contact.wrapped", T + 872, call),
        state(T + 872, "dave", "available", ["billing"]),
    ]


def test_lines_that_cannot_be_mapped_are_rejected_with_a_specific_reason() -> None:
    connector = QueueLogConnector()
    cases = {
        b"this is not a queue_log line": (
            "missing_field",
            "not a queue_log line: 1 field(s) where epoch|callid|queue|member|event are required",
        ),
        b"yesterday|1795338707.17|billing|NONE|ENTERQUEUE||0151000017|1": (
            "invalid_timestamp",
            "queue_log epoch 'yesterday': not whole seconds since 1970",
        ),
        b"1795338706|1795338706.16|billing|NONE|FROBNICATE|": (
            "unknown_type",
            "queue_log event 'FROBNICATE' is not one Floorwatch maps or ignores "
            "(docs/connectors.md)",
        ),
        b"1795338705|1795338999.99|billing|bob|CONNECT|5|1795338705.15|1": (
            "unknown_contact",
            "CONNECT for call 1795338999.99 that entered no queue earlier in this log",
        ),
        b"1795338705|NONE|billing|NONE|ENTERQUEUE||1|1": (
            "missing_field",
            "ENTERQUEUE without a call id (callid field)",
        ),
        b"1795338705|NONE|billing|NONE|ADDMEMBER|": (
            "missing_field",
            "ADDMEMBER without a member (agent field)",
        ),
        b"1" * 70000: ("too_large", "queue_log line of 70000 bytes exceeds 65536"),
    }
    for line, (reason, detail) in cases.items():
        (rejection,) = connector.feed(line)
        assert isinstance(rejection, Rejection)
        assert (rejection.reason, rejection.detail) == (reason, detail)


def test_lines_ignored_by_design_are_counted_per_reason() -> None:
    connector = QueueLogConnector()
    for line in (
        b"1795338000|NONE|NONE|NONE|QUEUESTART|",
        b"1795338702|NONE|NONE|NONE|CONFIGRELOAD|",
        b"1795338703|1795338703.14|outbound|alice|OUTCALL|ANSWER|40|x",
        b"1795338704|1795338704.15|NONE|NONE|ENTERQUEUE||0151|1",
        b"1795338705|1795338704.15|billing|bob|RINGCANCELED|1200",
    ):
        assert connector.feed(line) == []
    assert connector.ignored == {
        "queuestart": 1,
        "configreload": 1,
        "outbound": 1,
        "no_queue": 1,
        "ring_canceled": 1,
    }


def test_queue_names_outside_the_contract_are_mapped_reversibly() -> None:
    assert queue_label("billing") == "billing"
    assert queue_label("Support Desk") == "Support:20Desk"
    assert queue_label("Ventes-Élite") == "Ventes-:C3:89lite"
    assert queue_label("a:b") == "a:3Ab"  # the escape character itself is escaped
    for name in ("Support Desk", "Ventes-Élite", "a:b", "x/y (2)", "billing"):
        assert vendor_queue(queue_label(name)) == name
    long = "Kundenservice Privatkunden Nord / Rückrufe außerhalb der Geschäftszeiten"
    label = queue_label(long)
    assert len(label) == 64 and label[49:51] == "::"  # cut, with a hash: not reversible
    assert vendor_queue(label) is None
    out = run("1795338010|1795338010.1|Support Desk|NONE|ENTERQUEUE||0151|1")
    assert out == [queued(T + 10, "1795338010.1", "Support:20Desk")]


def test_event_ids_are_stable_and_a_reread_is_a_duplicate() -> None:
    text = (FIXTURES / "day.queue_log").read_bytes()
    first = [e for e in _mapped(text) if isinstance(e, dict)]
    again = [e for e in _mapped(text) if isinstance(e, dict)]
    assert [e["event_id"] for e in first] == [e["event_id"] for e in again]
    assert len({e["event_id"] for e in first}) == len(first)
    feed = Feed()
    for event in first + again:
        feed.send(orjson.dumps(event))
    assert feed.engine.pipeline.duplicates == len(first)


def _mapped(text: bytes, options: AsteriskOptions | None = None) -> list[Any]:
    connector = QueueLogConnector(options)
    out: list[Any] = []
    for line in text.splitlines():
        out += connector.feed(line)
    return out + connector.flush()


@pytest.mark.parametrize("cut", [10, 19, 24, 31, 46])
def test_state_survives_snapshot_and_restore_mid_log(cut: int) -> None:
    options = AsteriskOptions(wrapup_by_queue={"billing": 10})
    lines = (FIXTURES / "day.queue_log").read_bytes().splitlines()
    whole = [plain(e) for e in _mapped(b"\n".join(lines), options)]
    first = QueueLogConnector(options)
    out: list[Any] = []
    for line in lines[:cut]:
        out += first.feed(line)
    saved = orjson.loads(orjson.dumps(first.snapshot()))
    resumed = QueueLogConnector(options)
    resumed.restore(saved)
    for line in lines[cut:]:
        out += resumed.feed(line)
    out += resumed.flush()
    assert [plain(e) for e in out] == whole


# ---------------------------------------------------------------- a day, replayed


def replayed(path: Path, options: AsteriskOptions, decode_process: bool) -> Metrics:
    connector = QueueLogConnector(options)
    with path.open("rb") as source:
        engine = replay(
            source, settings_from_mapping({}), decode_process=decode_process, mapper=connector
        )
    return Metrics(exposition(engine).decode())


@pytest.mark.parametrize("decode_process", [False, True])
def test_a_day_replayed_gives_the_numbers_worked_out_by_hand(decode_process: bool) -> None:
    """fixtures/day.queue_log, billing with wrapuptime 10 s, sales none; exits default.

    billing: offered 6 (calls .1 .3 .4 .6 .8 .18); answered 3 with waits 12 (.1), 18
    (.4), 12 (.18), all within 20 s; abandoned 2: .3 after 40 s and .6 after 10 s (while
    alice wrapped up); transferred 2: .4 (blind transfer to sales), .8 (timeout, into
    sales a second later); missed 4 (bob's RINGNOANSWERs). Handle: .1 = 152 - 22 = 130,
    .18 = 882 - 812 = 70 (wrap-up 10 each; .4's first leg has no handle time: it moved
    in conversation) -> average 100. Service level 3 / (3 + 2) = 0.6.
    sales: offered 4 (.4 and .8 moved in, .9, .10); answered 2: .4 after 6 s (184 - 178),
    .10 after 2 s; .8 abandoned (EXITEMPTY, 69 s after entering sales at 261); .9 left
    with a key after 3 s: a short abandon (< 5 s); handle .4 = 304 - 184 = 120, .10 = 562
    - 502 = 60 (attended transfer to no queue: ended then) -> 90. Service level 2 / 3.
    At the end: alice, bob, dave available in billing, alice in sales, carol removed."""
    m = replayed(
        FIXTURES / "day.queue_log",
        AsteriskOptions(wrapup_by_queue={"billing": 10}),
        decode_process,
    )
    for queue, expected in {
        "billing": {
            "offered": 6,
            "answered": 3,
            "answered_within_target": 3,
            "abandoned": 2,
            "short_abandoned": 0,
            "transferred": 2,
            "missed": 4,
        },
        "sales": {
            "offered": 4,
            "answered": 2,
            "answered_within_target": 2,
            "abandoned": 1,
            "short_abandoned": 1,
            "transferred": 0,
            "missed": 0,
        },
    }.items():
        for name, value in expected.items():
            got = m.get(f"contactcenter_contacts_{name}_total", queue=queue, channel="voice")
            assert got == value, (queue, name)
    today = {"channel": "voice", "window": "today"}
    assert m.get("contactcenter_handle_seconds_average", queue="billing", **today) == 100
    assert m.get("contactcenter_handle_seconds_average", queue="sales", **today) == 90
    assert m.get("contactcenter_after_contact_work_seconds_average", queue="billing", **today) == 10
    assert m.get("contactcenter_wait_seconds_average", queue="billing", **today) == 14
    assert m.get("contactcenter_service_level_ratio", queue="billing", **today) == 0.6
    assert m.get("contactcenter_service_level_ratio", queue="sales", **today) == pytest.approx(
        2 / 3
    )
    agents = {
        (queue, state_): m.get("contactcenter_agents", queue=queue, state=state_)
        for queue in ("billing", "sales")
        for state_ in ("available", "on_contact", "after_contact_work", "away", "offline")
    }
    assert {k: v for k, v in agents.items() if v} == {
        ("billing", "available"): 3,
        ("sales", "available"): 1,
    }
    rejected = m.matching("contactcenter_events_rejected_total")
    assert {dict(k)["reason"]: v for k, v in rejected.items() if v} == {
        "missing_field": 1,  # "this is not a queue_log line"
        "invalid_timestamp": 1,  # "yesterday|..."
        "unknown_type": 1,  # FROBNICATE
        "unknown_contact": 1,  # CONNECT of a call that never entered
    }


def test_empty_queue_exits_as_flow_outs_leave_the_service_level() -> None:
    """With --exit empty=flowout .8 leaves sales unanswered without counting as abandoned:
    sales abandoned 0 (.9 stays a short abandon), service level 2 / 2 = 1."""
    m = replayed(
        FIXTURES / "day.queue_log",
        AsteriskOptions(wrapup_by_queue={"billing": 10}, exits={"empty": "flowout"}),
        False,
    )
    voice = {"queue": "sales", "channel": "voice"}
    assert m.get("contactcenter_contacts_abandoned_total", **voice) == 0
    assert m.get("contactcenter_contacts_offered_total", **voice) == 4
    assert m.get("contactcenter_service_level_ratio", window="today", **voice) == 1.0


def test_member_aliases_join_the_interface_and_the_member_name() -> None:
    """With log_membername_as_agent = no, ADDMEMBER writes the interface (app_queue.c),
    calls the member name: --member PJSIP/1001=Alice makes them one agent."""
    lines = """
    1795338001|MANAGER|billing|PJSIP/1001|ADDMEMBER|
    1795338010|1795338010.1|billing|NONE|ENTERQUEUE||0151000001|1
    1795338022|1795338010.1|billing|Alice|CONNECT|12|1795338022.2|8
    """
    assert run(lines, AsteriskOptions(members={"PJSIP/1001": "Alice"}), flush=False) == [
        state(T + 1, "Alice", "available", ["billing"]),
        queued(T + 10, "1795338010.1", "billing"),
        state(T + 22, "Alice", "on_contact", ["billing"]),
        contact("contact.answered", T + 22, "1795338010.1", agent_id="Alice"),
    ]
