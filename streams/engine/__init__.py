"""The metric engine: pure Python, no Faust, driven by explicit `now` values.

Stage 1 (`contacts.ContactTracker`) turns each contact's events into facts; stage 2
(`queues.QueueBoard`) keeps per queue x channel windows, counters and SLA clocks;
`agents.AgentBoard` keeps agent states. `engine.Engine` wires them for one process.
"""
