"""`floorwatch receive` and `run --source http://`: vendors' webhooks in. Each request is
verified, mapped by its connector and delivered (to Kafka, acknowledged by the broker; or
to the embedded engine) before it is answered 200; 503 when delivery fails, so the vendor
retries, and the retry's stable event ids make it harmless."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from streams.connectors import amazon_connect, twilio, webhook_connector, zendesk
from streams.connectors.base import Mapped
from streams.core.contract import AGENT_TYPE
from streams.core.engine import Engine
from streams.core.intake import Rejection
from streams.core.settings import KafkaSettings, ReceiveSettings
from streams.runtimes.records import RecordMapper, apply_mapped

log = logging.getLogger("floorwatch.receive")
OUTCOMES = ("accepted", "unauthorized", "too_large", "timeout", "unavailable")
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONNECT_HEADER = "X-Floorwatch-Secret"  # EventBridge API destination (API key auth)
FIREHOSE_KEY = "X-Amz-Firehose-Access-Key"  # Kinesis Data Firehose HTTP endpoint delivery
FIREHOSE_REQUEST = "X-Amz-Firehose-Request-Id"


class Unavailable(Exception):
    """Delivery failed (the broker did not acknowledge in time, or refused): the request
    is answered 503 and the vendor sends it again."""


class Sink(Protocol):
    """Where a request's mapped events go: `deliver` returns once they are safe (the
    broker acknowledged them, or the engine applied them), else raises `Unavailable`."""

    async def deliver(self, hook: str, items: Mapped, body: bytes) -> None: ...


Verify = Callable[[web.Request, bytes], bool]  # the request and its body


@dataclass
class Hook:
    """One vendor's endpoint, `/hooks/<name>`: its connector (a pure mapping) and how a
    request proves it comes from the vendor (a signature or a shared header secret)."""

    name: str
    mapper: RecordMapper
    verify: Verify

    @property
    def path(self) -> str:
        return f"/hooks/{self.name}"


def hooks_from(settings: ReceiveSettings) -> list[Hook]:
    """The hooks whose secret is configured (none is served without one)."""
    hooks = []
    if settings.twilio_auth_token:
        token = settings.twilio_auth_token

        def twilio_ok(request: web.Request, body: bytes) -> bool:
            return twilio.verify_signature(
                token,
                signed_url(request, settings.public_url),
                body,
                request.headers.get("X-Twilio-Signature", ""),
                request.headers.get("Content-Type", ""),
            )

        hooks.append(Hook("twilio", webhook_connector("twilio", settings), twilio_ok))
    if settings.zendesk_secret:
        secret = settings.zendesk_secret

        def zendesk_ok(request: web.Request, body: bytes) -> bool:
            return zendesk.verify_signature(
                secret,
                body,
                request.headers.get("X-Zendesk-Webhook-Signature", ""),
                request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", ""),
            )

        hooks.append(Hook("zendesk", webhook_connector("zendesk", settings), zendesk_ok))
    if settings.connect_secret:
        expected = settings.connect_secret

        def connect_ok(request: web.Request, body: bytes) -> bool:
            headers = request.headers
            presented = headers.get(CONNECT_HEADER) or headers.get(FIREHOSE_KEY) or ""
            return bool(presented) and amazon_connect.verify_secret(expected, presented)

        hooks.append(Hook("connect", webhook_connector("connect", settings), connect_ok))
    return hooks


class ReceiveMetrics:
    """The receiver's own counters on its `/metrics`: requests per connector and outcome,
    events and dead letters delivered, and the time from a body read to its answer."""

    def __init__(self, hooks: list[Hook]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "contactcenter_webhooks",
            "Webhook requests received, by connector and outcome.",
            ("connector", "outcome"),
            registry=self.registry,
        )
        self.events = Counter(
            "contactcenter_webhook_events",
            "Contract events delivered from webhooks, by connector.",
            ("connector",),
            registry=self.registry,
        )
        self.dead = Counter(
            "contactcenter_webhook_dead_letters",
            "Webhook records the connector could not map (kept with their reason).",
            ("connector", "reason"),
            registry=self.registry,
        )
        self.ack = Histogram(
            "contactcenter_webhook_ack_seconds",
            "Seconds from a webhook's body read to its 200 (delivery acknowledged).",
            ("connector",),
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        for hook in hooks:  # every series present from the start
            for outcome in OUTCOMES:
                self.requests.labels(hook.name, outcome)
            self.events.labels(hook.name)
            self.ack.labels(hook.name)


def make_receiver(
    hooks: list[Hook],
    sink: Sink,
    settings: ReceiveSettings,
    clock: Callable[[], float] = time.monotonic,
) -> web.Application:
    """The receiver's aiohttp application: POST /hooks/<name> per hook, /metrics, /healthz."""
    metrics = ReceiveMetrics(hooks)
    app = web.Application(client_max_size=settings.max_body_bytes)

    def handler(hook: Hook) -> Callable[[web.Request], Awaitable[web.Response]]:
        requests = {outcome: metrics.requests.labels(hook.name, outcome) for outcome in OUTCOMES}
        delivered = metrics.events.labels(hook.name)
        ack = metrics.ack.labels(hook.name)

        async def receive(request: web.Request) -> web.Response:
            length = request.content_length
            if length is not None and length > settings.max_body_bytes:
                requests["too_large"].inc()
                limit = settings.max_body_bytes
                return _answer(request, 413, f"body of {length} bytes exceeds {limit}")
            try:
                async with asyncio.timeout(settings.read_timeout_seconds):
                    body = await request.read()
            except TimeoutError:
                requests["timeout"].inc()
                return _answer(request, 408, "the body did not arrive in time")
            except web.HTTPRequestEntityTooLarge:
                requests["too_large"].inc()
                return _answer(request, 413, f"body exceeds {settings.max_body_bytes} bytes")
            started = clock()
            if not hook.verify(request, body):
                requests["unauthorized"].inc()
                log.warning(
                    "webhook signature refused",
                    extra={"connector": hook.name, "bytes": len(body), "peer": request.remote},
                )
                return _answer(request, 401, "signature or secret not valid")
            items = hook.mapper.feed(body)
            try:
                async with asyncio.timeout(settings.ack_timeout_seconds):
                    await sink.deliver(hook.name, items, body)
            except (TimeoutError, Unavailable) as exc:
                requests["unavailable"].inc()
                log.warning(
                    "webhook not delivered",
                    extra={"connector": hook.name, "error": str(exc) or type(exc).__name__},
                )
                return _answer(request, 503, "not stored: try again", retry_after=True)
            requests["accepted"].inc()
            events = 0
            for item in items:
                if isinstance(item, Rejection):
                    metrics.dead.labels(hook.name, item.reason).inc()
                else:
                    events += 1
            delivered.inc(events)
            ack.observe(clock() - started)
            return _answer(request, 200, "ok")

        return receive

    async def exposition(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(_: web.Request) -> web.Response:
        return _answer(None, 200, "ok")

    for hook in hooks:
        app.router.add_post(hook.path, handler(hook))
    app.router.add_get("/metrics", exposition)
    app.router.add_get("/healthz", healthz)
    return app


def _answer(
    request: web.Request | None, status: int, message: str, retry_after: bool = False
) -> web.Response:
    """A JSON answer; to Firehose (its request id in a header) the shape it expects:
    requestId and timestamp, and errorMessage unless 200."""
    headers = {"Retry-After": "5"} if retry_after else None
    body: dict[str, Any] = {"status": status, "message": message}
    firehose = request.headers.get(FIREHOSE_REQUEST) if request is not None else None
    if firehose is not None:
        body = {"requestId": firehose, "timestamp": int(time.time() * 1000)}
        if status != 200:
            body["errorMessage"] = message
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def signed_url(request: web.Request, public_url: str | None) -> str:
    """The URL the vendor posted to (Twilio signs it): behind a proxy the configured
    public base plus the path and query, else the URL of the request as received."""
    if public_url:
        return public_url + request.path_qs
    return str(request.url)


def tls_context(settings: ReceiveSettings) -> ssl.SSLContext | None:
    """A server TLS context from [receive] tls_cert and tls_key, or None (plain HTTP)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


class KafkaSink:
    """Events to the [kafka] topic keyed as the contract says, records the connector
    rejected to the dead-letter topic with their reason; returns when the broker has
    acknowledged every message of the request (idempotent producer, acks from all ISR)."""

    def __init__(self, client: AIOKafkaProducer, kafka: KafkaSettings) -> None:
        self.client = client
        self.topic = kafka.topic
        self.dlq_topic = kafka.dlq_topic

    async def deliver(self, hook: str, items: Mapped, body: bytes) -> None:
        try:
            acks = []
            for item in items:
                if isinstance(item, Rejection):
                    headers = [
                        ("reason", item.reason.encode()),
                        ("detail", item.detail.encode()),
                        ("source", b"floorwatch receive"),
                        ("connector", hook.encode()),
                    ]
                    acks.append(await self.client.send(self.dlq_topic, body, headers=headers))
                else:
                    id_key = "agent_id" if item["type"] == AGENT_TYPE else "contact_id"
                    key = str(item[id_key]).encode()
                    acks.append(await self.client.send(self.topic, orjson.dumps(item), key=key))
            await asyncio.gather(*acks)
        except KafkaError as exc:
            raise Unavailable(f"Kafka: {type(exc).__name__}") from None


class EngineSink:
    """The embedded engine (`run --source http://`): events applied on the loop at once,
    rejections to the engine's reject path; `counted` hears how many events were applied."""

    def __init__(
        self, engine: Engine, clock: Callable[[], float], counted: Callable[[int], None]
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.counted = counted

    async def deliver(self, hook: str, items: Mapped, body: bytes) -> None:
        self.counted(apply_mapped(self.engine, items, body, self.clock()))


async def serve_receiver(
    app: web.Application, settings: ReceiveSettings, host: str, port: int
) -> tuple[web.AppRunner, str]:
    """Start the receiver; returns its runner (to clean up) and its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = tls_context(settings)
    site = web.TCPSite(runner, host, port, ssl_context=context)
    await site.start()
    bound = runner.addresses[0]
    scheme = "https" if context else "http"
    return runner, f"{scheme}://{_host(bound[0])}:{bound[1]}"


def _host(address: Any) -> str:
    text = str(address)
    return f"[{text}]" if ":" in text else text
