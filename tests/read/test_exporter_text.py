"""The text renderer behind /metrics: byte for byte the text of prometheus_client's
generate_latest over EngineCollector (a generated day, scrape after scrape while events
arrive and the clock moves, labels that need escaping), queue selection, streaming, and
promtool."""

from __future__ import annotations

import math
import random
import subprocess

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

from streams.read.exporter import (
    exposition,
    exposition_chunks,
    metrics_selection,
    reference_exposition,
)
from streams.read.exposition_text import TextExposition, _encode, number
from tests.support.daygen import DayPlan, generate_day
from tests.support.helpers import T0, Feed


def samples(text: bytes) -> set[tuple[str, frozenset[tuple[str, str]], float]]:
    """Every sample of an exposition as (name, labels, value)."""
    return {
        (s.name, frozenset(s.labels.items()), s.value)
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }


def queues_of(found: set[tuple[str, frozenset[tuple[str, str]], float]]) -> list[str]:
    return sorted({dict(labels)["queue"] for _, labels, _ in found if "queue" in dict(labels)})


def families(text: bytes) -> list[str]:
    return [line.split()[2] for line in text.decode().splitlines() if line.startswith("# TYPE")]


def assert_same(feed: Feed) -> bytes:
    fast = exposition(feed.engine)
    assert fast == reference_exposition(feed.engine)
    return fast


def day_feed(seed: int = 4, contacts: int = 900, config: dict | None = None) -> tuple[Feed, list]:
    events, _ = generate_day(DayPlan(seed=seed, contacts=contacts, day="2026-11-20"))
    return Feed(config), list(events)


# ---------------------------------------------------------------------- numbers


def test_numbers_are_written_as_prometheus_client_writes_them() -> None:
    rng = random.Random(1)
    values: list[object] = [
        *(0, 1, -1, 7, 999_999, 1_000_000, 1_234_567, -1_234_567, 10**15, -(10**15), 10**17),
        *(2**53 + 1, True, False, 0.0, -0.0, 0.5, 0.1, 1e-05, 1e-300, 123456.789),
        *(999_999.999, 1e6, 1234567.0, 1.5e15, 1e16, 1e22, -1e22, -123456789.5),
        *(math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308),
    ]
    values += [rng.uniform(-1e7, 1e7) for _ in range(2000)]
    values += [rng.expovariate(1e-3) for _ in range(2000)]
    values += [rng.randrange(-(10**18), 10**18) for _ in range(500)]
    for value in values:
        assert number(value) == floatToGoString(value), value


# ---------------------------------------------------------------------- same text


def test_a_generated_day_gives_the_reference_text_scrape_after_scrape() -> None:
    """Scrapes between chunks of a day's events: kept text is re-rendered exactly when it
    changes (events, SLA clocks, windows sliding, agents)."""
    feed, events = day_feed()
    step = len(events) // 9
    for start in range(0, len(events), step):
        for event in events[start : start + step]:
            feed.send(event)
        text = assert_same(feed)
        assert exposition(feed.engine) == text  # nothing changed: the same text again
    # the clock runs on without events: windows empty, SLA clocks breach, waits grow
    for minutes in (1, 9, 50, 240, 24 * 60):
        feed.advance(feed.engine.clock.now() + 60 * minutes)
        assert_same(feed)


def test_labels_that_need_escaping_and_every_configured_shape() -> None:
    config = {
        "agents": {"reasons": ['lu"nch', "back\\slash", "new\nline", "ok"]},
        "windows": ["5m", "1h", "today"],
    }
    feed = Feed(config)
    teams = ['a"quoted"', "back\\slash", "multi\nline", "ünïcode", ""]
    queues = ["q:1", "q.2", "q-3", "_under", "Q4"]
    channels = ["voice", "chat", "email", "messaging", "social"]
    for n, queue in enumerate(queues):
        feed.event(
            "agent.state",
            T0,
            agent_id=f"a{n}",
            state="away",
            reason=['lu"nch', "back\\slash", "new\nline", "other-reason", "ok"][n],
            queues=[queue],
        )
        for c, channel in enumerate(channels):
            contact = f"{queue}-{channel}"
            team = {"team": teams[c]} if teams[c] else {}
            feed.event(
                "contact.queued",
                T0 + n + c,
                contact_id=contact,
                queue=queue,
                channel=channel,
                priority=["urgent", "high", "normal", "low", "normal"][c],
                **team,
            )
            if c % 2:
                feed.event("contact.answered", T0 + 40 + n, contact_id=contact, agent_id="a1")
    text = assert_same(feed)
    assert b'team="a\\"quoted\\""' in text
    assert b'reason="new\\nline"' in text
    feed.advance(T0 + 3 * 3600)
    assert_same(feed)


def test_the_overflow_queue_and_a_queue_left_by_its_agents() -> None:
    feed = Feed({"engine": {"max_queue_channels": 3}})
    for n in range(6):
        feed.event("contact.queued", T0 + n, contact_id=f"c{n}", queue=f"q{n}", channel="chat")
        feed.event("agent.state", T0 + n, agent_id=f"a{n}", state="available", queues=[f"q{n}"])
    assert_same(feed)
    feed.event("agent.state", T0 + 60, agent_id="a1", state="offline", queues=["q2"])
    text = assert_same(feed)
    assert b'queue="_overflow"' in text


def test_a_dropped_queue_goes_and_comes_back_fresh() -> None:
    """A worker drops the queues of a partition it lost (and may get them back)."""
    feed, events = day_feed(seed=9, contacts=300)
    for event in events[: len(events) // 2]:
        feed.send(event)
    assert_same(feed)
    feed.engine.queues.drop_queue("billing")
    text = assert_same(feed)
    assert b'queue="billing"' not in text
    for event in events[len(events) // 2 :]:
        feed.send(event)
    assert b'queue="billing"' in assert_same(feed)


def test_extra_collectors_follow_the_engine() -> None:
    feed, events = day_feed(seed=2, contacts=150)
    for event in events:
        feed.send(event)
    registry = CollectorRegistry()
    Counter("floorwatch_things", "Things.", registry=registry).inc(3)
    assert exposition(feed.engine, registry) == reference_exposition(feed.engine, registry)
    assert b"floorwatch_things_total 3.0" in exposition(feed.engine, registry)


# ---------------------------------------------------------------------- selection


def loaded_feed() -> Feed:
    feed, events = day_feed(seed=6, contacts=600)
    for event in events:
        feed.send(event)
    return feed


def test_a_queue_selection_keeps_only_those_queues_and_no_pipeline_series() -> None:
    feed = loaded_feed()
    everything = samples(exposition(feed.engine))
    queues = queues_of(everything)
    assert len(queues) >= 3
    chosen = frozenset(queues[:2])
    text = exposition(feed.engine, queues=chosen)
    picked = samples(text)
    assert picked == {s for s in everything if dict(s[1]).get("queue") in chosen}, (
        "exactly the series of the chosen queues"
    )
    assert families(text) == families(exposition(feed.engine, queues=frozenset()))
    promised = set(families(exposition(feed.engine)))
    assert "contactcenter_events_processed_total" in promised
    assert "contactcenter_events_processed_total" not in families(text)
    with_pipeline = samples(exposition(feed.engine, queues=chosen, pipeline=True))
    assert with_pipeline == picked | {s for s in everything if "queue" not in dict(s[1])}


def test_split_jobs_add_up_to_the_whole_answer_without_double_counting() -> None:
    """Disjoint selections, one of them with the pipeline series: together exactly the
    unfiltered answer."""
    feed = loaded_feed()
    everything = samples(exposition(feed.engine))
    queues = queues_of(everything)
    parts = [frozenset(queues[i::3]) for i in range(3)]
    answers = [
        samples(exposition(feed.engine, queues=part, pipeline=i == 0))
        for i, part in enumerate(parts)
    ]
    assert sum(len(a) for a in answers) == len(everything)
    assert set().union(*answers) == everything
    only_pipeline = samples(exposition(feed.engine, queues=frozenset(), pipeline=True))
    assert only_pipeline == {s for s in everything if "queue" not in dict(s[1])}


def test_selections_share_the_kept_text_with_the_full_answer() -> None:
    feed = loaded_feed()
    renderer = TextExposition(feed.engine)
    chosen = frozenset({"billing"})
    first = renderer.render(queues=chosen)
    whole = renderer.render()
    assert whole == reference_exposition(feed.engine)
    assert renderer.render(queues=chosen) == first
    assert samples(first) <= samples(whole)


def test_the_query_choices_of_the_pipeline_series() -> None:
    some = frozenset({"billing"})
    assert metrics_selection(None, None) == (None, None)
    assert metrics_selection(some, "") == (some, None)
    assert metrics_selection(some, "1") == (some, True)
    assert metrics_selection(some, "TRUE") == (some, True)
    assert metrics_selection(None, "0") == (None, False)
    assert metrics_selection(some, "only") == (frozenset(), True)
    with pytest.raises(ValueError, match="pipeline=yes please"):
        metrics_selection(None, "yes please")
    feed = loaded_feed()
    alone = samples(exposition(feed.engine, queues=None, pipeline=False))
    assert alone and all("queue" in dict(labels) for _, labels, _ in alone)


# ---------------------------------------------------------------------- streaming


def test_chunks_hold_the_state_of_when_they_were_asked_for() -> None:
    feed, events = day_feed(seed=3, contacts=300)
    half = len(events) // 2
    for event in events[:half]:
        feed.send(event)
    before = reference_exposition(feed.engine)
    chunks = exposition_chunks(feed.engine)
    for event in events[half:]:  # events arrive while the answer is being written
        feed.send(event)
    streamed = list(chunks)
    assert b"".join(streamed) == before
    assert len(streamed) > 50  # a family's header, then its lines a few hundred at a time
    assert all(chunk for chunk in streamed)


def test_a_large_family_is_answered_in_pieces_of_at_most_256_lines() -> None:
    """A thousand queue x channels make families of megabytes: each is encoded a few
    hundred lines at a time, never whole (no multi-megabyte string or bytes per scrape)."""
    lines = [f'm{{queue="q{i}"}} {i}.0\n' for i in range(600)]
    streamed = list(_encode([("# HELP m\n", lines), ("", ["", ""]), b"raw\n"]))
    assert streamed[0] == b"# HELP m\n"
    assert [piece.count(b"\n") for piece in streamed[1:4]] == [256, 256, 88]
    assert b"".join(streamed) == ("# HELP m\n" + "".join(lines) + "raw\n").encode()
    assert len(streamed) == 5  # no empty piece for the empty part


# ---------------------------------------------------------------------- promtool


def test_the_text_and_a_selection_pass_promtool(promtool: str) -> None:
    feed = loaded_feed()
    for text in (exposition(feed.engine), exposition(feed.engine, queues=frozenset({"sales"}))):
        result = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("seed", [11, 12])
def test_other_days(seed: int) -> None:
    feed, events = day_feed(seed=seed, contacts=400)
    for event in events:
        feed.send(event)
    assert_same(feed)


def test_a_window_quantile_block_follows_its_sum_and_its_bins_each_alone() -> None:
    """Kept quantile lines are re-rendered when either input changes alone: a wait of 0
    adds a count but not to the sum; a wait of 10 s leaving the 5m window while one of
    10.004 s (the same sketch bin) enters changes the sum but not the bins."""
    feed = Feed()

    def call(n: int, queued: float, answered: float) -> None:
        feed.event("contact.queued", queued, contact_id=f"c{n}", queue="q", channel="voice")
        feed.event("contact.answered", answered, contact_id=f"c{n}", agent_id="a1")

    call(1, T0, T0 + 10)  # bucket T0/10 + 1
    feed.advance(T0 + 15)
    assert_same(feed)
    call(2, T0 + 20, T0 + 20)  # wait 0: the same sum, one more count
    feed.advance(T0 + 25)
    before = feed.engine.queues.windows(feed.engine.queues.stats_for("q", "voice"))["5m"]
    before_row = (before.wait_sum, dict(before.wait_bins))
    assert_same(feed)
    call(3, T0 + 294.996, T0 + 305)  # wait 10.004 s
    feed.advance(T0 + 310)  # the 5m window now starts at T0 + 20: call 1 has left it
    after = feed.engine.queues.windows(feed.engine.queues.stats_for("q", "voice"))["5m"]
    assert dict(after.wait_bins) == before_row[1] and after.wait_sum != before_row[0]
    assert_same(feed)
