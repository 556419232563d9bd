"""The webhook receiver over real HTTP (aiohttp on loopback): signatures checked against
values computed here with the standard library, the size limit, a client too slow to send
its body, 503 while delivery fails and 200 once it works. Delivery goes to a recording sink
in this module (the Kafka and embedded sinks have tests of their own, with a real broker
and a real `floorwatch run`). Zendesk bodies follow Zendesk's documented ticket events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from aiohttp import ClientSession

from streams.connectors.base import Mapped
from streams.core.intake import Rejection
from streams.core.settings import ConfigError, ReceiveSettings
from streams.runtimes.receive import Unavailable, hooks_from, make_receiver, serve_receiver
from tests.conftest import require_tool

ZENDESK_SECRET = "dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0"
TWILIO_TOKEN = "12345678901234567890123456789012"
CONNECT_SECRET = "s3cr3t-from-a-file"


def zendesk_created(ticket: int, time: str = "2026-11-22T09:00:00Z") -> bytes:
    """A `zen:event-type:ticket.created` webhook body as Zendesk's event schema shows it."""
    return orjson.dumps(
        {
            "type": "zen:event-type:ticket.created",
            "account_id": 22129848,
            "id": f"7d0c4b8e-0000-4000-8000-{ticket:012d}",
            "time": time,
            "zendesk_event_version": "2022-11-06",
            "subject": f"zen:ticket:{ticket}",
            "detail": {
                "id": str(ticket),
                "created_at": time,
                "updated_at": time,
                "group_id": "360001",
                "priority": "NORMAL",
                "status": "NEW",
                "via": {"channel": "email"},
            },
            "event": {},
        }
    )


def zendesk_signed(body: bytes, timestamp: str = "2026-11-22T09:00:01Z") -> dict[str, str]:
    """Zendesk's signature: base64 of HMAC-SHA256(secret, timestamp + body)."""
    digest = hmac.new(ZENDESK_SECRET.encode(), timestamp.encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest.digest()).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    }


class Recorder:
    """A sink that keeps what it is given, or fails as a broker that is down would."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, Mapped]] = []
        self.failing = False

    async def deliver(self, hook: str, items: Mapped, body: bytes) -> None:
        if self.failing:
            raise Unavailable("Kafka: KafkaConnectionError")
        self.delivered.append((hook, items))


SETTINGS = ReceiveSettings(
    port=0,
    max_body_bytes=4096,
    read_timeout_seconds=0.5,
    ack_timeout_seconds=1.0,
    twilio_auth_token=TWILIO_TOKEN,
    zendesk_secret=ZENDESK_SECRET,
    connect_secret=CONNECT_SECRET,
)


Scenario = Callable[[str, Recorder], Awaitable[None]]


def with_receiver(scenario: Scenario, settings: ReceiveSettings = SETTINGS) -> None:
    """Run `scenario(base URL, sink)` against a receiver listening on a free port."""

    async def main() -> None:
        sink = Recorder()
        app = make_receiver(hooks_from(settings), sink, settings)
        runner, url = await serve_receiver(app, settings, "127.0.0.1", 0)
        try:
            await scenario(url, sink)
        finally:
            await runner.cleanup()

    asyncio.run(main())


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with ClientSession() as session, session.post(url, data=body, headers=headers) as r:
        if r.content_type == "application/json":
            return r.status, await r.json()
        return r.status, await r.text()


async def metrics(url: str) -> str:
    async with ClientSession() as session, session.get(url + "/metrics") as response:
        return await response.text()


def test_a_signed_zendesk_event_is_delivered_then_acknowledged() -> None:
    async def scenario(url: str, sink: Recorder) -> None:
        body = zendesk_created(5158)
        assert await post(url + "/hooks/zendesk", body, zendesk_signed(body)) == (
            200,
            {"status": 200, "message": "ok"},
        )
        assert sink.delivered == [
            (
                "zendesk",
                [
                    {
                        "event_id": "zd-7d0c4b8e-0000-4000-8000-000000005158",
                        "type": "contact.queued",
                        "occurred_at": 1795338000000,  # 2026-11-22T09:00:00Z
                        "contact_id": "zd-5158",
                        "queue": "360001",
                        "channel": "email",
                        "priority": "normal",
                    }
                ],
            )
        ]
        text = await metrics(url)
        assert 'contactcenter_webhooks_total{connector="zendesk",outcome="accepted"} 1.0' in text
        assert 'contactcenter_webhook_events_total{connector="zendesk"} 1.0' in text

    with_receiver(scenario)


def test_a_bad_signature_is_401_counted_and_its_body_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(url: str, sink: Recorder) -> None:
        body = zendesk_created(77)
        headers = zendesk_signed(body)
        tampered = body.replace(b'"NORMAL"', b'"URGENT"')
        later = zendesk_signed(body, timestamp="2026-11-22T09:00:02Z")[
            "X-Zendesk-Webhook-Signature"
        ]
        with caplog.at_level(logging.DEBUG):
            assert (await post(url + "/hooks/zendesk", tampered, headers))[0] == 401
            replayed = {**headers, "X-Zendesk-Webhook-Signature": later}  # another timestamp's
            assert (await post(url + "/hooks/zendesk", body, replayed))[0] == 401
            assert (await post(url + "/hooks/zendesk", body, {}))[0] == 401
            assert (await post(url + "/hooks/connect", b"{}", {"X-Floorwatch-Secret": "guess"}))[
                0
            ] == 401
        assert sink.delivered == []
        text = await metrics(url)
        assert (
            'contactcenter_webhooks_total{connector="zendesk",outcome="unauthorized"} 3.0' in text
        )
        assert (
            'contactcenter_webhooks_total{connector="connect",outcome="unauthorized"} 1.0' in text
        )
        logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
        assert "webhook signature refused" in logged
        assert "URGENT" not in logged and "zen:ticket" not in logged and "guess" not in logged

    with_receiver(scenario)


def twilio_signature(url: str, params: dict[str, str]) -> str:
    """Twilio's documented scheme: the full URL, then each POST parameter's name and value
    in name order, HMAC-SHA1 with the auth token, base64."""
    text = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(TWILIO_TOKEN.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_twilio_signs_the_url_it_called_and_the_sorted_form() -> None:
    """A TaskRouter Event Callback (form-encoded, parameters as Twilio's event reference
    lists them); the URL is the receiver's own, as no public_url is configured."""

    async def scenario(url: str, sink: Recorder) -> None:
        params = {
            "AccountSid": "AC00000000000000000000000000000000",
            "WorkspaceSid": "WS00000000000000000000000000000000",
            "EventType": "task-queue.entered",
            "Sid": "EV00000000000000000000000000000001",
            "Timestamp": "1795338000",
            "TaskSid": "WT00000000000000000000000000000001",
            "TaskQueueSid": "WQ00000000000000000000000000000001",
            "TaskQueueName": "Billing",
            "TaskChannelUniqueName": "voice",
            "TaskPriority": "0",
            "TaskAttributes": '{"from":"+15550100"}',
        }
        body = urlencode(params).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        good = {**form, "X-Twilio-Signature": twilio_signature(url + "/hooks/twilio", params)}
        elsewhere = twilio_signature("https://attacker.example/hooks/twilio", params)
        assert (await post(url + "/hooks/twilio", body, {**form, "X-Twilio-Signature": elsewhere}))[
            0
        ] == 401
        assert (await post(url + "/hooks/twilio", body, good))[0] == 200
        [(hook, items)] = sink.delivered
        assert hook == "twilio"
        assert [(e["type"], e["contact_id"], e["queue"], e["channel"]) for e in items] == [  # type: ignore[index]
            ("contact.queued", "WT00000000000000000000000000000001", "Billing", "voice")
        ]

    with_receiver(scenario)


def test_amazon_connect_needs_its_header_secret() -> None:
    async def scenario(url: str, sink: Recorder) -> None:
        body = b'{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events"}'
        status, _ = await post(
            url + "/hooks/connect", body, {"X-Floorwatch-Secret": CONNECT_SECRET}
        )
        assert status == 200
        assert [hook for hook, _ in sink.delivered] == ["connect"]

    with_receiver(scenario)


def test_too_large_bodies_are_413_before_they_are_read() -> None:
    async def scenario(url: str, sink: Recorder) -> None:
        body = b'{"pad":"' + b"x" * 5000 + b'"}'
        assert (await post(url + "/hooks/zendesk", body, zendesk_signed(body)))[0] == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked, counted as read
            for _ in range(5):
                yield b"x" * 1000

        async with (
            ClientSession() as session,
            session.post(url + "/hooks/zendesk", data=chunks(), headers=zendesk_signed(b"")) as r,
        ):
            assert r.status == 413
        assert sink.delivered == []
        text = await metrics(url)
        assert 'contactcenter_webhooks_total{connector="zendesk",outcome="too_large"} 2.0' in text

    with_receiver(scenario)


def test_a_slow_client_gets_408_and_holds_up_no_one() -> None:
    async def scenario(url: str, sink: Recorder) -> None:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /hooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 400\r\n\r\n{"type":'
        )
        await writer.drain()
        body = zendesk_created(9)
        assert (await post(url + "/hooks/zendesk", body, zendesk_signed(body)))[0] == 200
        status_line = await asyncio.wait_for(reader.readline(), 5)
        assert status_line.startswith(b"HTTP/1.1 408"), status_line
        writer.close()
        assert len(sink.delivered) == 1
        text = await metrics(url)
        assert 'contactcenter_webhooks_total{connector="zendesk",outcome="timeout"} 1.0' in text

    with_receiver(scenario)


def test_503_while_delivery_fails_then_the_retry_is_taken() -> None:
    async def scenario(url: str, sink: Recorder) -> None:
        body = zendesk_created(4242)
        sink.failing = True
        status, answer = await post(url + "/hooks/zendesk", body, zendesk_signed(body))
        assert (status, answer["message"]) == (503, "not stored: try again")
        sink.failing = False
        assert (await post(url + "/hooks/zendesk", body, zendesk_signed(body)))[0] == 200
        assert len(sink.delivered) == 1

    with_receiver(scenario)


def test_records_the_connector_rejects_are_delivered_as_rejections() -> None:
    """Retrying cannot mend a body the connector cannot map: it is delivered (to the
    dead-letter topic, by the Kafka sink) with its reason, and answered 200."""

    async def scenario(url: str, sink: Recorder) -> None:
        body = b"{not json"
        assert (await post(url + "/hooks/zendesk", body, zendesk_signed(body)))[0] == 200
        [(_, items)] = sink.delivered
        assert [(r.reason) for r in items if isinstance(r, Rejection)] == ["invalid_json"]

    with_receiver(scenario)


def test_unconfigured_connectors_are_not_served() -> None:
    only = ReceiveSettings(port=0, zendesk_secret=ZENDESK_SECRET)
    assert [hook.path for hook in hooks_from(only)] == ["/hooks/zendesk"]
    assert hooks_from(ReceiveSettings()) == []

    async def scenario(url: str, sink: Recorder) -> None:
        assert (await post(url + "/hooks/twilio", b"a=b", {}))[0] == 404

    with_receiver(scenario, only)


def test_firehose_deliveries_use_its_key_header_and_get_its_answer() -> None:
    """Kinesis Data Firehose's HTTP endpoint delivery (its documented request and response
    shapes): the access key in X-Amz-Firehose-Access-Key, the answer echoes requestId."""

    async def scenario(url: str, sink: Recorder) -> None:
        record = base64.b64encode(b'{"EventType":"HEART_BEAT","EventId":"e-1"}').decode()
        body = orjson.dumps(
            {
                "requestId": "ed4acda5-034f",
                "timestamp": 1578090901599,
                "records": [{"data": record}],
            }
        )
        headers = {
            "X-Amz-Firehose-Request-Id": "ed4acda5-034f",
            "X-Amz-Firehose-Access-Key": CONNECT_SECRET,
            "Content-Type": "application/json",
        }
        status, answer = await post(url + "/hooks/connect", body, headers)
        assert status == 200
        assert answer["requestId"] == "ed4acda5-034f"
        assert type(answer["timestamp"]) is int and "errorMessage" not in answer
        wrong = {**headers, "X-Amz-Firehose-Access-Key": "nope"}
        status, answer = await post(url + "/hooks/connect", body, wrong)
        assert (status, answer["errorMessage"]) == (401, "signature or secret not valid")
        assert len(sink.delivered) == 1

    with_receiver(scenario)


def test_an_activity_map_outside_the_contract_is_a_configuration_error() -> None:
    settings = ReceiveSettings(twilio_auth_token="t", twilio_activities=(("Lunch", "lunch"),))
    with pytest.raises(ConfigError, match=r"receive\.twilio_activities: activity 'Lunch'"):
        hooks_from(settings)


def test_https_with_the_configured_certificate(tmp_path: Path) -> None:
    """A self-signed certificate made by openssl for 127.0.0.1; the client trusts only it."""
    import ssl
    import subprocess

    openssl = require_tool("openssl", "openssl")
    cert, key = tmp_path / "hooks.pem", tmp_path / "hooks.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    settings = ReceiveSettings(
        port=0, zendesk_secret=ZENDESK_SECRET, tls_cert=str(cert), tls_key=str(key)
    )
    trust = ssl.create_default_context(cafile=str(cert))

    async def scenario(url: str, sink: Recorder) -> None:
        assert url.startswith("https://127.0.0.1:")
        body = zendesk_created(31)
        async with (
            ClientSession() as session,
            session.post(
                url + "/hooks/zendesk", data=body, headers=zendesk_signed(body), ssl=trust
            ) as response,
        ):
            assert response.status == 200
        assert len(sink.delivered) == 1

    with_receiver(scenario, settings)
