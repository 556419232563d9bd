"""The metric engine: pure Python, no Faust, driven by explicit `now` values.

Contact stage (`contacts.ContactTracker`) turns each contact's events into facts; queue stage
(`queues.QueueBoard`) keeps per queue x channel windows, counters and SLA clocks;
`agents.AgentTracker` follows agent states and `agents.QueueAgentBoard` counts them per
queue; `snapshot` turns their state into Table values and back. `engine.Engine` wires
them for one process.
"""
