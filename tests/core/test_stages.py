"""The two worker stages without a broker: partitioned like Kafka, equal to one engine.

A generated day is split by message key with Kafka's own partitioner, contact stage runs per
partition in an interleaved order, facts travel as encoded messages (through orjson) to
two queue stages owning half of the facts partitions each. The union of their metrics
must equal a single replay engine's. Then the same with a crash: a partition's contact stage
and a queue stage restart from their Table values and redo messages already applied.
"""

from __future__ import annotations

import orjson
import pytest

from streams.core.clock import EventTimeClock
from streams.core.contact_stage import ContactStage
from streams.core.event_ids import StoredIds
from streams.core.fact_messages import FactsMessage
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueStage
from streams.core.settings import Settings
from streams.kafka_client import key_partition
from streams.runtimes.worker.read_view import WorkerView
from tests.support.daygen import DayPlan, generate_day
from tests.support.helpers import T0, WALL, Feed, assert_same, iso, queue_lines

PARTITIONS = 4
CHUNK = 37
VOICE = {"queue": "support", "channel": "voice"}
PER_PROCESS = (
    "contactcenter_contacts_tracked",
    "contactcenter_events_parked",
    "contactcenter_overflow",
)


def queue_only(lines: list[str]) -> dict[str, float]:
    """Series -> value, without the per-process gauges."""
    out: dict[str, float] = {}
    for line in lines:
        if not line.startswith(PER_PROCESS):
            series, _, value = line.rpartition(" ")
            assert series not in out, f"duplicate series {series}"
            out[series] = float(value)
    return out


def kafka_partition(key: str) -> int:
    return key_partition(key, PARTITIONS)


def day_by_partition(seed: int) -> tuple[list[dict], dict[int, list[tuple[int, bytes, bytes]]]]:
    events, _ = generate_day(DayPlan(seed=seed, contacts=600, day="2026-11-20"))
    ordered = with_missed_offers(list(events))
    parts: dict[int, list[tuple[int, bytes, bytes]]] = {p: [] for p in range(PARTITIONS)}
    for event in ordered:
        key = event.get("contact_id") or event["agent_id"]
        part = parts[kafka_partition(key)]
        part.append((len(part), key.encode(), orjson.dumps(event)))
    return ordered, parts


def with_missed_offers(events: list[dict]) -> list[dict]:
    """The generated day, with an offer that rang out just before every fifth answer
    (the generator makes none): the `missed` fact travels too."""
    out: list[dict] = []
    answers = 0
    for event in events:
        if event["type"] == "contact.answered":
            answers += 1
            if answers % 5 == 0:
                missed = {
                    "event_id": f"missed-{answers}",
                    "type": "contact.missed",
                    "occurred_at": event["occurred_at"],
                    "contact_id": event["contact_id"],
                    "agent_id": "agent-who-missed",
                    "ring_seconds": 12,
                }
                out.append(missed)
        out.append(event)
    return out


class Cluster:
    """Contact stage per source partition, two queue stages, a 'Table' of stored values."""

    def __init__(self) -> None:
        self.settings = Feed().settings
        self.pipeline = PipelineStats()
        self.contact_stages = {p: self.new_contact_stage(p) for p in range(PARTITIONS)}
        self.sides = [self.new_side(owned) for owned in ((0, 1), (2, 3))]
        self.contact_table: dict[int, dict[str, list]] = {p: {} for p in range(PARTITIONS)}
        self.queue_table: dict[str, dict] = {}
        self.now = float("-inf")
        self.facts_log: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        self.delivered = dict.fromkeys(range(PARTITIONS), 0)  # per facts partition
        self.committed = dict.fromkeys(range(PARTITIONS), 0)

    def new_contact_stage(self, partition: int) -> ContactStage:
        return ContactStage(partition, self.settings, self.pipeline, PARTITIONS)

    def new_side(self, owned: tuple[int, ...]) -> QueueStage:
        side = QueueStage(self.settings, PARTITIONS, PARTITIONS)
        for partition in owned:
            stored = (
                [
                    (queue, orjson.loads(orjson.dumps(value)))
                    for queue, value in self.queue_table.items()
                    if side.partition_of(queue) == partition
                ]
                if hasattr(self, "queue_table")
                else []
            )
            side.load(partition, stored, getattr(self, "now", float("-inf")))
        return side

    def side_for(self, partition: int) -> QueueStage:
        return next(side for side in self.sides if partition in side.owned)

    def run(self, source: int, messages: list[tuple[int, bytes, bytes]]) -> None:
        part = self.contact_stages[source]
        for offset, key, raw in messages:
            part.apply(offset, key, raw, WALL)
            self.now = max(self.now, part.now)
        self.flush(source)

    def flush(self, source: int) -> None:
        """End of a batch: facts out (and markers), Table writes, as the runtime does."""
        part = self.contact_stages[source]
        out = part.recorder.take()
        for dest in range(PARTITIONS):
            message = FactsMessage(source, part.now, out.get(dest, []))
            self.facts_log[dest].append(message.encode())
        for key, value in part.changed():
            if value is None:
                self.contact_table[source].pop(key, None)
            else:
                self.contact_table[source][key] = orjson.loads(orjson.dumps(value))
        self.deliver()

    def deliver(self) -> None:
        for dest, log in self.facts_log.items():
            side = self.side_for(dest)
            while self.delivered[dest] < len(log):
                side.apply_message(dest, FactsMessage.decode(log[self.delivered[dest]]), self.now)
                self.delivered[dest] += 1

    def checkpoint(self) -> None:
        """Queue stage writes its changed queues (the runtime commits offsets later)."""
        for side in self.sides:
            for _, queue, value in side.checkpoint():
                self.queue_table[queue] = orjson.loads(orjson.dumps(value))

    def commit(self) -> None:
        self.committed = dict(self.delivered)

    def restart_side(self, index: int, owned: tuple[int, ...]) -> None:
        """A queue stage restarts from the Table; facts since the commit come again."""
        self.sides[index] = self.new_side(owned)
        for partition in owned:
            self.delivered[partition] = self.committed[partition]

    def restart_contact_stage(self, source: int) -> None:
        part = self.contact_stages[source] = self.new_contact_stage(source)
        for key, value in self.contact_table[source].items():
            part.restore(key, value)
        part.restored()

    def finish(self, end: float) -> dict[str, float]:
        for source in range(PARTITIONS):
            for dest in range(PARTITIONS):
                self.side_for(dest).apply_message(dest, FactsMessage(source, end, []), end)
        lines: list[str] = []
        for side in self.sides:
            view = WorkerView(
                self.settings, EventTimeClock(), self.pipeline, side, self.contact_stages
            )
            side.tick(end)
            lines += queue_lines(view)  # type: ignore[arg-type]
        return queue_only(lines)


def reference(events: list[dict], end: float) -> dict[str, float]:
    feed = Feed()
    for event in events:
        feed.send(event)
    feed.advance(end)
    return queue_only(queue_lines(feed.engine))


def interleaved(parts: dict[int, list]) -> list[tuple[int, list]]:
    chunks = []
    for start in range(0, max(len(p) for p in parts.values()), CHUNK):
        for source, messages in parts.items():
            if messages[start : start + CHUNK]:
                chunks.append((source, messages[start : start + CHUNK]))
    return chunks


def test_two_stages_equal_one_engine() -> None:
    events, parts = day_by_partition(seed=21)
    cluster = Cluster()
    for source, chunk in interleaved(parts):
        cluster.run(source, chunk)
    end = max(cluster.contact_stages[p].now for p in range(PARTITIONS)) + 1
    expected = reference(events, end)
    assert any(s.startswith("contactcenter_sla_breaches_total") for s in expected)
    assert any(s.startswith("contactcenter_contacts_missed_total") for s in expected)
    assert any(s.startswith("contactcenter_agents{") for s in expected)
    assert_same(cluster.finish(end), expected)


def test_restarts_redo_nothing_twice() -> None:
    events, parts = day_by_partition(seed=22)
    cluster = Cluster()
    chunks = interleaved(parts)
    crash_at = len(chunks) // 2
    for i, (source, chunk) in enumerate(chunks):
        cluster.run(source, chunk)
        if i == crash_at - 20:
            cluster.commit()  # offsets committed lag behind the Table writes
        if i == crash_at - 10:
            cluster.checkpoint()  # the last checkpoint before the crash
    # Crash: contact stage of partition 0 and queue stage 0 lose their memory. Contact stage redoes
    # partition 0 from an offset far before its Table writes; queue stage restarts from its
    # checkpoint and receives again every facts message since (they were not committed).
    cluster.restart_contact_stage(0)
    cluster.restart_side(0, (0, 1))
    redo_from = len(parts[0]) // 4
    for source, chunk in chunks[: crash_at + 1]:
        if source == 0 and chunk[-1][0] >= redo_from:
            for offset, key, raw in chunk:
                if offset >= redo_from:
                    cluster.contact_stages[0].apply(offset, key, raw, WALL)
            assert cluster.contact_stages[0].recorder.take() == {}, "an applied event was redone"
    for source, chunk in chunks[crash_at + 1 :]:
        cluster.run(source, chunk)
    assert cluster.sides[0].skipped > 0  # facts applied before the checkpoint came again
    end = max(cluster.contact_stages[p].now for p in range(PARTITIONS)) + 1
    assert_same(cluster.finish(end), reference(events, end))


def answered_in_time() -> tuple[list, list]:
    """A voice contact entered at 1,000 and answered 10 s later (target 20 s)."""
    entered = [0, 0, "entered", "support", "voice", "c1", 1000.0, 1000.0, "normal", None, 0, 0]
    answered = [1, 0, "answered", "support", "voice", "c1", 1010.0, "normal", 10.0, None]
    return entered, answered


def test_partitions_assigned_again_restart_the_sla_clock() -> None:
    """A rebalance revokes every partition, then assigns them again (eager protocol), and
    each resumes from its checkpoint. The SLA clock must not stay where it was: the
    restored contact was answered in time by a fact replayed after the checkpoint."""
    side = QueueStage(Feed().settings, 1, 1)
    side.load(0, [], WALL)
    entered, answered = answered_in_time()
    side.apply_message(0, FactsMessage(0, 1000.0, [entered]), WALL)
    stored = [(queue, orjson.loads(orjson.dumps(value))) for _, queue, value in side.checkpoint()]
    since_checkpoint = FactsMessage(0, 5000.0, [answered])  # its due time (1,020) passed
    side.apply_message(0, since_checkpoint, WALL)
    side.drop(0)
    side.load(0, stored, WALL)
    side.apply_message(0, since_checkpoint, WALL)
    stats = side.board.stats_for("support", "voice")
    assert (stats.answered_total, stats.answered_within_target_total) == (1, 1)
    assert sum(stats.breaches_total) == 0


def test_a_partition_cannot_join_after_the_sla_clock_moved() -> None:
    """Facts partitions share one SLA clock: a late joiner's contacts would be judged
    against marks its sources never sent, so the worker loads them all at once."""
    side = QueueStage(Feed().settings, 1, 2)
    side.load(0, [], WALL)
    side.apply_message(0, FactsMessage(0, 1000.0, []), WALL)
    assert side.board.sla_now == 1000.0
    with pytest.raises(RuntimeError, match="facts partition 1 loaded after the SLA clock moved"):
        side.load(1, [], WALL)


def message(event_id: str, type_: str, at: float, contact_id: str, **fields: object) -> bytes:
    """Bytes as a producer might send them (key order and spacing of its own)."""
    event = {"type": type_, "contact_id": contact_id, "event_id": event_id, **fields}
    return orjson.dumps({**event, "occurred_at": iso(at)}, option=orjson.OPT_INDENT_2)


def test_orphans_go_to_the_dead_letters_with_their_own_key_bytes_and_offset() -> None:
    """A parked event whose contact never queues leaves, once `orphan_hold` (60 s) of the
    partition's event time has passed, as the message it came in — also when contact stage
    restarted from its Table in between; a parked event whose contact did queue does not."""
    settings = Feed().settings
    part = ContactStage(0, settings, PipelineStats(), PARTITIONS)
    ghost = message("g1", "contact.answered", T0, "ghost", agent_id="a1")
    part.apply(0, b"ghost\xff", ghost, WALL)  # a key that is not UTF-8 text
    late = message("l1", "contact.answered", T0 + 5, "late", agent_id="a2")
    part.apply(1, b"late", late, WALL)
    part.apply(2, b"late", message("l0", "contact.queued", T0 + 6, "late", **VOICE), WALL)
    stored = {key: orjson.loads(orjson.dumps(value)) for key, value in part.changed()}
    assert stored["c:ghost"][0] == "parked"
    restarted = ContactStage(0, settings, PipelineStats(), PARTITIONS)
    for key, value in stored.items():
        if value is not None:
            restarted.restore(key, value)
    restarted.restored()
    restarted.apply(3, b"c9", message("q9", "contact.queued", T0 + 59, "c9", **VOICE), WALL)
    assert restarted.take_rejects() == []  # 59 s: the ghost may still queue
    restarted.apply(4, b"c9", message("q10", "contact.ended", T0 + 61, "c9"), WALL)
    [reject] = restarted.take_rejects()
    assert (reject.offset, reject.key, reject.raw, reject.reason) == (
        0,
        b"ghost\xff",
        ghost,
        "unknown_contact",
    )
    assert reject.detail == "contact.answered g1: contact ghost never queued"
    assert restarted.parked_sources == {}
    assert dict(restarted.changed())["c:ghost"] is None  # gone from the Table


def test_an_event_beyond_the_parking_limit_is_a_dead_letter_at_once() -> None:
    settings = Feed({"engine": {"max_parked_events": 1}}).settings
    part = ContactStage(0, settings, PipelineStats(), PARTITIONS)
    first = message("o1", "contact.answered", T0, "x", agent_id="a1")
    second = message("o2", "contact.ended", T0 + 1, "x")
    part.apply(7, b"x", first, WALL)
    part.apply(8, b"x", second, WALL)
    [reject] = part.take_rejects()
    assert (reject.offset, reject.key, reject.raw, reject.reason) == (
        8,
        b"x",
        second,
        "unknown_contact",
    )


def restart_from_table(
    part: ContactStage, table: dict[str, list], settings: Settings
) -> ContactStage:
    """What `part` wrote to its Table since `table` was taken, then a new contact stage from it."""
    for key, value in part.changed():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = orjson.loads(orjson.dumps(value))
    restarted = ContactStage(part.partition, settings, part.pipeline, PARTITIONS)
    for key, value in table.items():
        restarted.restore(key, value)
    restarted.restored()
    return restarted


def test_a_duplicate_of_an_event_from_before_a_restart_is_still_a_duplicate() -> None:
    """A producer's retry may deliver an event again after the worker restarted: the
    duplicate is dropped and counted, as an uninterrupted run does — not a second
    offered contact, a second close or a second survey."""
    settings = Feed().settings
    life = [
        message("q1", "contact.queued", T0, "c1", **VOICE),
        message("a1", "contact.answered", T0 + 5, "c1", agent_id="a1"),
        message("e1", "contact.ended", T0 + 50, "c1"),
        message("s1", "survey.responded", T0 + 60, "c1", csat=5),
    ]
    again = [life[3], life[0], life[2]]  # same bytes, same event ids, new offsets
    for restart in (False, True):
        part = ContactStage(0, settings, PipelineStats(), PARTITIONS)
        for offset, raw in enumerate(life):
            part.apply(offset, b"c1", raw, WALL)
        if restart:
            part = restart_from_table(part, {}, settings)
        part.recorder.take()
        for offset, raw in enumerate(again, start=len(life)):
            part.apply(offset, b"c1", raw, WALL)
        assert part.recorder.take() == {}, f"restart={restart}"
        assert part.pipeline.duplicates == 3, f"restart={restart}"


class Fifo:
    """The memory of ids the naive way: a list, the oldest dropped past `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.ids: list[str] = []

    def seen(self, event_id: str) -> bool:
        if event_id in self.ids:
            return True
        self.ids.append(event_id)
        if len(self.ids) > self.capacity:
            self.ids.pop(0)
        return False


def test_the_stored_event_ids_rebuild_the_memory_exactly_and_stay_bounded() -> None:
    """Ids drawn from a small set (so they come back, some after they were forgotten),
    checkpoints at uneven intervals, a restart from the Table after each: the restored
    memory answers every later id as the naive FIFO does, and the Table holds no chunk
    older than needed: the chunks after the oldest hold fewer than `capacity` ids."""
    capacity = 7
    settings = Feed({"engine": {"dedup_capacity": capacity}}).settings
    draws = [f"e{(k * k + k // 5) % 19}" for k in range(400)]  # deterministic, with repeats
    model = Fifo(capacity)
    table: dict[str, list] = {}
    part = ContactStage(2, settings, PipelineStats(), PARTITIONS)
    answers, expected = [], []
    position = 0
    for step in (1, 5, 2, 13, 3, 40, 1, 1, 8, 60, 4, 90, 2, 150, 20):
        for event_id in draws[position : position + step]:
            answers.append(part.event_ids.seen(event_id))
            expected.append(model.seen(event_id))
        position += step
        part = restart_from_table(part, table, settings)
        chunks = {k: v for k, v in table.items() if k.startswith("i:2:")}
        oldest = min(chunks, key=lambda k: int(k.rpartition(":")[2]))
        assert sum(len(ids) for ids in chunks.values()) - len(chunks[oldest]) < capacity
    assert position == len(draws)
    assert answers == expected
    assert answers.count(True) > 0 and answers.count(False) > capacity  # both kinds ran


def test_event_id_chunks_split_by_size_and_survive_checkpoints_without_restarts() -> None:
    """Chunks close at `chunk_characters` (each id counted with 3 more characters), old
    chunks are deleted across checkpoints with no restart in between, and a restart at
    any checkpoint rebuilds the memory the naive FIFO has."""
    stored = StoredIds(0, capacity=5, chunk_characters=12)
    for event_id in ("ab", "cd", "ef", "gh", "ij"):
        assert not stored.seen(event_id)
    written = stored.changed()
    assert written == [("i:0:0", ["ab", "cd"]), ("i:0:1", ["ef", "gh"]), ("i:0:2", ["ij"])]

    model = Fifo(5)
    for event_id in ("ab", "cd", "ef", "gh", "ij"):
        model.seen(event_id)
    table = dict(written)
    draws = [f"{(k * 5 + k // 3) % 11:02d}" for k in range(120)]
    answers, expected = [], []
    for round_, start in enumerate(range(0, len(draws), 8)):
        for event_id in draws[start : start + 8]:
            answers.append(stored.seen(event_id))
            expected.append(model.seen(event_id))
        for key, ids in stored.changed():
            if ids is None:
                del table[key]
            else:
                table[key] = ids
        if round_ % 3 == 2:  # a restart at every third checkpoint only
            stored = StoredIds(0, capacity=5, chunk_characters=12)
            for key, ids in table.items():
                stored.restore(key, ids)
            stored.restored()
    assert answers == expected
    assert answers.count(True) > 0 and answers.count(False) > 5
    assert len(table) < 5  # deleted as they aged out: 2 ids a chunk, capacity 5


def test_an_event_id_chunk_fits_a_table_value_whatever_the_ids_are_made_of() -> None:
    """Ids of 128 control characters (the longest the contract allows, each written by
    JSON as \\u00XX): every chunk's JSON stays below the Table's 16 MiB value limit."""
    stored = StoredIds(0, capacity=1_000_000)
    for k in range(40_000):
        stored.seen(f"{k:06d}" + "\x01" * 122)
    chunks = [ids for _, ids in stored.changed() if ids is not None]
    assert sum(len(ids) for ids in chunks) == 40_000
    assert len(chunks) > 1
    assert max(len(orjson.dumps(ids)) for ids in chunks) < 16 * 1024 * 1024


def handled_life(contact_id: str, agent_id: str, at: float, answer: float, end: float, wrap: float):
    """A voice contact queued at `at`, answered `answer` s later, ended and wrapped up
    (offsets from `at`): handle time = wrap - answer."""
    return [
        message(f"q-{contact_id}", "contact.queued", at, contact_id, **VOICE),
        message(f"a-{contact_id}", "contact.answered", at + answer, contact_id, agent_id=agent_id),
        message(f"e-{contact_id}", "contact.ended", at + end, contact_id),
        message(f"w-{contact_id}", "contact.wrapped", at + wrap, contact_id),
    ]


def test_agent_activity_survives_a_restart_from_the_table() -> None:
    """An agent's handled contacts, handle time and live contacts are in the Table as
    `p:<partition>:<agent>`: after a restart the day's counts go on from them. a1 handles
    c1 (answered +5, wrapped +80: 75 s) and c2 (+10 .. +50: 40 s) before the restart and
    c3 (+10 .. +45: 35 s) after: 3 handled, 150 s, AHT 50 s; c4, answered before the
    restart and not ended, is still the contact a1 is on."""
    settings = Feed().settings
    part = ContactStage(2, settings, PipelineStats(), PARTITIONS)
    before = [
        *handled_life("c1", "a1", T0, 5, 50, 80),
        *handled_life("c2", "a1", T0 + 100, 10, 30, 50),
        *handled_life("c4", "a1", T0 + 200, 10, 1000, 1000)[:2],
    ]
    for offset, raw in enumerate(before):
        part.apply(offset, b"k", raw, WALL)
    table: dict[str, list] = {}
    part = restart_from_table(part, table, settings)
    assert table["p:2:a1"][1:3] == [2, 115.0]
    for offset, raw in enumerate(handled_life("c3", "a1", T0 + 300, 10, 20, 45), start=20):
        part.apply(offset, b"k", raw, WALL)
    record = part.contacts.activity["a1"]
    assert (record.handled, record.handle_sum) == (3, 150.0)
    assert record.handle_sum / record.handled == 50.0
    assert record.current == {"c4": ("support", "voice", T0 + 210)}
    stored = dict(part.changed())["p:2:a1"]
    assert stored is not None and stored[1:3] == [3, 150.0]
