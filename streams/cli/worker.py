"""`floorwatch worker`: one Faust worker of the distributed mode."""

from __future__ import annotations

import argparse

from streams.cli.support import config_option, kafka_error, listen_address, listen_options
from streams.config import load_settings
from streams.logs import configure as configure_logs


def add_worker(commands: argparse._SubParsersAction) -> None:
    wk = commands.add_parser(
        "worker",
        help="distributed mode: a Faust worker consuming the [kafka] topic",
        description=(
            "Run one Faust worker of the consumer group: contact stage keeps each contact's state "
            "(Table by contact_id), queue stage each queue's windows and SLA clocks (Table by "
            "queue, fed through the facts topic). Rejected messages go to the dead-letter "
            "topic. Serves /metrics (the queues of the partitions it owns, and consumer "
            "lag), /api/v1/board, /healthz and /readyz. Start several with different "
            "--port values to share the partitions. Configure Kafka with [kafka] or "
            "FLOORWATCH_KAFKA__* variables and the Table store with [worker]."
        ),
    )
    config_option(wk)
    listen_options(wk, port_help="port (default: [server] port, 9641)")
    wk.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from streams.runtimes.worker.runner import run_worker  # Faust is imported only by this command

    settings = load_settings(args.config)
    host, port = listen_address(args, settings)
    configure_logs(args.log_level)
    try:
        return run_worker(settings, host, port, args.log_level)
    except KafkaError as exc:
        raise kafka_error(settings, exc) from None
