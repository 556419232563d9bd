"""Distributed mode: Faust workers on Kafka running the core's contact and queue stages.

`worker` wires `streams.core.contact_stage` and `streams.core.queue_stage` to Faust's
consumer, Tables, the facts and dead-letter topics and the worker's web server.
"""
