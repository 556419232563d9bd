"""The core: pure, compiled with mypyc, driven by explicit `now` values; no I/O.

`ingest` decodes and routes events, `contacts` (contact stage) turns them into facts,
`queues` (queue stage) keeps every queue x channel's windows, counters and SLA clocks;
`engine` wires them in one process, `contact_stage`/`queue_stage` per Kafka partition.
"""
