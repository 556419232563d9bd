"""Pipeline health: is Floorwatch itself receiving, accepting and keeping up with events?"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dm

from .common import JOB, Board, query, runbook_link, stat_panel, steps, ts_panel

UID = "floorwatch-pipeline"


def _rate(counter: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({counter}[$__rate_interval]))"


def build() -> dm.Dashboard:
    board = Board(
        UID,
        "Floorwatch / Pipeline health",
        "Floorwatch itself (no queue labels): workers up, events per second by type, rejected "
        "and ignored input by reason, duplicates, late events, processing lag, parked events "
        "and memory-bound state; in distributed mode, Kafka and Redis reachable, consumer lag "
        "of the input and facts topics, partitions per worker and dead letters. The "
        "team/queue/channel variables do not filter this board. "
        "Red regions: firing Floorwatch* alerts.",
        ["pipeline"],
    )
    board.row("Workers")
    board.add(
        stat_panel(
            "Workers up",
            f'Scrape targets of job "{JOB}" that answer (up == 1) out of all.',
            [
                query(f'sum(up{{job="{JOB}"}})', "up", instant=True),
                query(f'count(up{{job="{JOB}"}})', "targets", ref="B", instant=True),
            ],
            thresholds=steps(("red", None), ("green", 1)),
            width=6,
            height=5,
            links=[runbook_link("FloorwatchWorkerDown"), runbook_link("FloorwatchTargetMissing")],
            decimals=0,
        )
    )
    board.add(
        stat_panel(
            "Events per second",
            "All event types, over the rate interval.",
            [query(_rate("contactcenter_events_processed_total"), "events/s", instant=True)],
            unit="short",
            width=6,
            height=5,
            links=[runbook_link("FloorwatchNoEvents")],
        )
    )
    board.add(
        stat_panel(
            "Rejected share (10 min)",
            "Rejected ÷ processed + rejected over 10 minutes; FloorwatchEventsRejected warns "
            "above 5 % and pages above 25 %.",
            [
                query(
                    "sum(rate(contactcenter_events_rejected_total[10m])) / "
                    "(sum(rate(contactcenter_events_processed_total[10m])) + "
                    "sum(rate(contactcenter_events_rejected_total[10m])))",
                    "rejected",
                    instant=True,
                )
            ],
            unit="percentunit",
            thresholds=steps(("green", None), ("orange", 0.05), ("red", 0.25)),
            width=6,
            height=5,
            links=[runbook_link("FloorwatchEventsRejected")],
            decimals=1,
        )
    )
    board.add(
        stat_panel(
            "Processing lag p99",
            "99th percentile of processing time - event time over 5 minutes; "
            "FloorwatchEventLagHigh warns above 30 s and pages above 300 s.",
            [
                query(
                    "histogram_quantile(0.99, sum by (le) "
                    "(rate(contactcenter_event_processing_lag_seconds_bucket[5m])))",
                    "p99",
                    instant=True,
                )
            ],
            unit="s",
            thresholds=steps(("green", None), ("orange", 30), ("red", 300)),
            width=6,
            height=5,
            links=[runbook_link("FloorwatchEventLagHigh")],
        )
    )

    board.row("Input")
    board.add(
        ts_panel(
            "Events per second by type",
            "rate(contactcenter_events_processed_total) by event type.",
            [query(_rate("contactcenter_events_processed_total", "type"), "{{type}}")],
            width=12,
            stack=True,
            links=[runbook_link("FloorwatchNoEvents")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Rejected per second by reason",
            "rate(contactcenter_events_rejected_total) by reason; rejected messages go to the "
            "dead-letter topic or --rejects-out.",
            [query(_rate("contactcenter_events_rejected_total", "reason"), "{{reason}}")],
            width=12,
            stack=True,
            links=[runbook_link("FloorwatchEventsRejected")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Duplicates, late and ignored per second",
            "Duplicate deliveries (dropped), late events (applied), ignored events by reason.",
            [
                query(_rate("contactcenter_events_duplicate_total"), "duplicate"),
                query(_rate("contactcenter_events_late_total"), "late", ref="B"),
                query(
                    _rate("contactcenter_events_ignored_total", "reason"),
                    "ignored {{reason}}",
                    ref="C",
                ),
            ],
            width=12,
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Processing lag",
            "Processing time - event time: p50 and p99 from the "
            "contactcenter_event_processing_lag_seconds histogram, and wall clock - event time "
            "of the newest event (contactcenter_last_event_timestamp_seconds; negative in "
            "simulations running faster than real time).",
            [
                query(
                    "histogram_quantile(0.5, sum by (le) "
                    "(rate(contactcenter_event_processing_lag_seconds_bucket[$__rate_interval])))",
                    "p50",
                ),
                query(
                    "histogram_quantile(0.99, sum by (le) "
                    "(rate(contactcenter_event_processing_lag_seconds_bucket[$__rate_interval])))",
                    "p99",
                    ref="B",
                ),
                query(
                    "time() - max(contactcenter_last_event_timestamp_seconds)",
                    "since newest event",
                    ref="C",
                ),
            ],
            unit="s",
            width=12,
            links=[runbook_link("FloorwatchEventLagHigh")],
        ),
        alerts=True,
    )

    board.row("Distributed mode (workers on Kafka, Redis)")
    board.add(
        stat_panel(
            "Kafka reachable",
            "contactcenter_kafka_up of the worst worker: 1 when the Kafka cluster answered its "
            "last metadata request (asked every 2 s, from process start). 0: that worker reads "
            "no events and the figures of its queues are frozen; FloorwatchKafkaUnreachable "
            "warns after 1 min and pages after 5 min.",
            [query("min(contactcenter_kafka_up)", "kafka up", instant=True)],
            thresholds=steps(("red", None), ("green", 1)),
            width=4,
            height=6,
            links=[runbook_link("FloorwatchKafkaUnreachable")],
            decimals=0,
        )
    )
    board.add(
        stat_panel(
            "Redis",
            "contactcenter_redis_up of the worst worker: 1 when Redis (live targets, the "
            "cluster board) answered its last request. Redis down costs the cluster board and "
            "new live targets, never counting.",
            [query("min(contactcenter_redis_up)", "redis up", instant=True)],
            thresholds=steps(("red", None), ("green", 1)),
            width=4,
            height=6,
            decimals=0,
        )
    )
    board.add(
        ts_panel(
            "Consumer lag by topic",
            "Messages not applied yet of the partitions the workers own "
            "(contactcenter_consumer_lag_messages), summed per topic: the input topic (contact "
            "stage) and the facts topic (queue stage). A backlog is applied when both are 0 on "
            "two scrapes in a row. Tools that subtract committed offsets never reach 0 on the "
            "facts topic: progress marks arrive every tick, commits every checkpoint.",
            [query("sum by (topic) (contactcenter_consumer_lag_messages)", "{{topic}}")],
            width=16,
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Dead letters per second",
            "Messages sent to the dead-letter topic (original bytes, reason in headers).",
            [query(_rate("contactcenter_dead_letters_total"), "dead letters")],
            width=12,
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Partitions per worker",
            "Partitions each worker owns: stage 1, of the input topic (contact stage); stage 2, "
            "of the facts topic (queue stage). They move when workers join, leave or die "
            "(after the session timeout).",
            [
                query(
                    "sum by (instance, stage) (contactcenter_worker_partitions)",
                    "{{instance}} stage {{stage}}",
                )
            ],
            width=12,
            stack=True,
        ),
    )

    board.row("State")
    board.add(
        ts_panel(
            "Parked events",
            "Events waiting for their contact.queued (bounded by engine.max_parked_events, held "
            "for engine.orphan_hold).",
            [query("sum by (instance) (contactcenter_events_parked)", "{{instance}}")],
            width=8,
        ),
    )
    board.add(
        ts_panel(
            "Contacts tracked",
            "Open and remembered contacts in memory per worker.",
            [query("sum by (instance) (contactcenter_contacts_tracked)", "{{instance}}")],
            width=8,
        ),
    )
    board.add(
        ts_panel(
            "Overflowed queue x channel pairs",
            'Pairs folded into queue="_overflow" above engine.max_queue_channels (should be 0).',
            [query("sum by (instance) (contactcenter_overflow_queue_channels)", "{{instance}}")],
            width=8,
            thresholds=steps(("transparent", None), ("red", 1)),
        ),
    )
    board.add(
        ts_panel(
            "Scrape targets up",
            f'up{{job="{JOB}"}} per worker.',
            [query(f'up{{job="{JOB}"}}', "{{instance}}")],
            width=24,
            height=6,
            min_value=0,
            max_value=1,
            links=[runbook_link("FloorwatchWorkerDown")],
        ),
        alerts=True,
    )
    return board.build('alertname=~"Floorwatch.*"')
