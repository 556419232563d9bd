"""Distributed mode: Faust workers on Kafka running the same engine in two stages.

`facts` carries stage 1's facts over a topic partitioned by queue; `stage1` and `stage2`
are the pure per-partition logic (no Faust, tested without a broker); `app` wires them
to Faust agents, Tables, the dead-letter topic and the worker's web server.
"""
