"""Connectors: vendors' records (Asterisk queue_log, FreeSWITCH mod_callcenter, Twilio
TaskRouter, Zendesk, Amazon Connect) to contract events. Each mapping is pure and
deterministic; the transports (files, sockets, webhooks) live in the runtimes. The mapping
tables are in docs/connectors*.md."""

from __future__ import annotations

from streams.connectors.amazon_connect import AmazonConnectConnector
from streams.connectors.asterisk import AsteriskOptions, QueueLogConnector
from streams.connectors.base import Connector, Mapped, queue_label, vendor_queue
from streams.connectors.freeswitch import FreeSwitchConnector
from streams.connectors.twilio import TwilioConnector
from streams.connectors.zendesk import ZendeskConnector
from streams.core.settings import ConfigError, ReceiveSettings

# --format NAME -> what it reads. `json` is the contract itself (no connector).
FORMATS = {
    "json": "contract events as JSON Lines (the default)",
    "asterisk": "Asterisk queue_log lines (epoch|callid|queue|member|event|data...)",
    "freeswitch": "FreeSWITCH mod_callcenter events (--source freeswitch://HOST:PORT, or a "
    "file of `event json` lines)",
    "twilio": "Twilio TaskRouter events (Event Callback form bodies or Event Streams "
    "CloudEvents JSON), one per line",
    "zendesk": "Zendesk ticket events (webhook JSON), ticket metric events or satisfaction "
    "ratings (API JSON), one per line",
    "connect": "Amazon Connect contact events (EventBridge), agent event stream records or "
    "contact records (CTR), one JSON document per line",
}
# The formats that also arrive as webhooks (floorwatch receive, run --source http://).
WEBHOOK_FORMATS = ("twilio", "zendesk", "connect")


def webhook_connector(name: str, settings: ReceiveSettings) -> Connector:
    """A webhook vendor's connector with its name maps of [receive] (twilio_activities,
    zendesk_groups, connect_queues); files of its records (--format NAME) use them too."""
    if name == "twilio":
        try:
            return TwilioConnector(dict(settings.twilio_activities) or None)
        except ValueError as exc:  # a state the contract does not know
            raise ConfigError(f"receive.twilio_activities: {exc}") from None
    if name == "zendesk":
        return ZendeskConnector(dict(settings.zendesk_groups) or None)
    return AmazonConnectConnector(dict(settings.connect_queues) or None)


__all__ = [
    "FORMATS",
    "WEBHOOK_FORMATS",
    "AmazonConnectConnector",
    "AsteriskOptions",
    "Connector",
    "FreeSwitchConnector",
    "Mapped",
    "QueueLogConnector",
    "TwilioConnector",
    "ZendeskConnector",
    "queue_label",
    "vendor_queue",
    "webhook_connector",
]
