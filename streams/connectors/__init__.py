"""Connectors: vendors' records (Asterisk queue_log, FreeSWITCH mod_callcenter events) to
contract events. Each mapping is pure and deterministic; the transports that read files
and sockets live in the runtimes. The mapping tables are in docs/connectors.md."""

from __future__ import annotations

from streams.connectors.asterisk import AsteriskOptions, QueueLogConnector
from streams.connectors.base import Connector, Mapped, queue_label, vendor_queue
from streams.connectors.freeswitch import FreeSwitchConnector

# --format NAME -> what it reads. `json` is the contract itself (no connector).
FORMATS = {
    "json": "contract events as JSON Lines (the default)",
    "asterisk": "Asterisk queue_log lines (epoch|callid|queue|member|event|data...)",
    "freeswitch": "FreeSWITCH mod_callcenter events (--source freeswitch://HOST:PORT, or a "
    "file of `event json` lines)",
}

__all__ = [
    "FORMATS",
    "AsteriskOptions",
    "Connector",
    "FreeSwitchConnector",
    "Mapped",
    "QueueLogConnector",
    "queue_label",
    "vendor_queue",
]
