"""`floorwatch receive`: vendors' webhooks (Twilio, Zendesk, Amazon Connect) to the [kafka]
topic, each request answered 200 only once the broker has acknowledged its events."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import ssl
import sys

from streams.cli.support import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
    kafka_error,
    listen_error,
    port,
)
from streams.config import load_settings
from streams.core.settings import ReceiveSettings, Settings
from streams.logs import configure as configure_logs

log = logging.getLogger("floorwatch.receive")
STOP_SECONDS = 10.0  # for the producer to flush at stop (the broker may be down)
NO_HOOKS = (
    "no webhook is configured: set a connector's secret, e.g. "
    "FLOORWATCH_RECEIVE__TWILIO_AUTH_TOKEN, FLOORWATCH_RECEIVE__ZENDESK_SECRET or "
    "FLOORWATCH_RECEIVE__CONNECT_SECRET (or twilio_auth_token_file, zendesk_secret_file, "
    "connect_secret_file in [receive]); a hook is never served without its secret"
)


def add_receive(commands: argparse._SubParsersAction) -> None:
    rc = commands.add_parser(
        "receive",
        help="receive vendors' webhooks (Twilio, Zendesk, Amazon Connect) into the [kafka] topic",
        description=(
            "Serve POST /hooks/twilio, /hooks/zendesk and /hooks/connect (each one whose "
            "secret is configured in [receive]), check each request's signature, map it to "
            "contract events and send them to the [kafka] topic; a request is answered 200 "
            "only after the broker has acknowledged them, else 503 so the vendor retries "
            "(retries de-duplicate through stable event ids). Listens on 127.0.0.1 unless "
            "told otherwise; /metrics counts requests by connector and outcome."
        ),
    )
    rc.add_argument("--host", help="address to listen on (default: [receive] host, 127.0.0.1)")
    rc.add_argument("--port", type=port, help="port (default: [receive] port, 9643)")
    rc.add_argument("--tls-cert", help="PEM certificate chain (default: [receive] tls_cert)")
    rc.add_argument("--tls-key", help="PEM private key (default: [receive] tls_key)")
    rc.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="least severe log records written, as JSON lines on stderr (default info)",
    )
    config_option(rc)
    rc.set_defaults(handler=_receive)


def receive_settings(args: argparse.Namespace, settings: Settings) -> ReceiveSettings:
    """[receive] with the command line's --host, --port, --tls-cert and --tls-key on top."""
    base = settings.receive
    cert = args.tls_cert or base.tls_cert
    key = args.tls_key or base.tls_key
    if (cert is None) != (key is None):
        raise CliError("--tls-cert and --tls-key: give both or neither", EXIT_USAGE)
    chosen = dataclasses.replace(
        base,
        host=args.host or base.host,
        port=base.port if args.port is None else args.port,
        tls_cert=cert,
        tls_key=key,
    )
    return checked_tls(chosen)


def checked_tls(settings: ReceiveSettings) -> ReceiveSettings:
    """`settings`, once its certificate and key load (else one line, exit 2)."""
    from streams.runtimes.receive import tls_context  # with aiohttp: when a command runs

    try:
        tls_context(settings)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise CliError(
            f"TLS certificate {settings.tls_cert} / key {settings.tls_key}: cannot be used: "
            f"{reason}",
            EXIT_USAGE,
        ) from None
    return settings


def _receive(args: argparse.Namespace) -> int:
    import uvloop
    from aiokafka.errors import KafkaError

    from streams import kafka_client
    from streams.runtimes.produce import producer
    from streams.runtimes.receive import KafkaSink, hooks_from, make_receiver, serve_receiver

    settings = load_settings(args.config)
    receive = receive_settings(args, settings)
    hooks = hooks_from(receive)
    if not hooks:
        raise CliError(NO_HOOKS, EXIT_USAGE)
    configure_logs(args.log_level)
    quiet = logging.getLogger("aiokafka")  # each failed attempt; the 503s say it
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    kafka = settings.kafka

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await kafka_client.ensure_topic(kafka, kafka.topic, kafka.partitions)
        await kafka_client.ensure_topic(kafka, kafka.dlq_topic, kafka.partitions)
        client = producer(kafka)
        await client.start()
        try:
            app = make_receiver(hooks, KafkaSink(client, kafka), receive)
            runner, url = await serve_receiver(app, receive, receive.host, receive.port)
            paths = ", ".join(url + hook.path for hook in hooks)
            print(f"floorwatch receive: listening on {paths}", file=sys.stderr, flush=True)
            try:
                await stop.wait()
            finally:
                await runner.cleanup()
        finally:  # what the broker never acknowledged was answered 503: nothing is lost
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.stop(), STOP_SECONDS)

    try:
        uvloop.run(main())  # libuv's loop: fewer CPU cycles per request than asyncio's
    except KafkaError as exc:
        raise kafka_error(settings, exc) from None
    except OSError as exc:
        raise listen_error(receive.host, receive.port, exc) from None
    return EXIT_OK
