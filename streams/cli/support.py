"""What every `floorwatch` subcommand shares: exit codes, errors, the --config option."""

from __future__ import annotations

import argparse

EXIT_OK = 0
EXIT_INPUT = 1  # unusable input: missing or unreadable file
EXIT_USAGE = 2  # bad options or configuration
EXIT_UNAVAILABLE = 3  # a service the command needs (Redis, a worker) does not answer


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="TOML configuration (default: $FLOORWATCH_CONFIG, else ./floorwatch.toml "
        "if present, else built-in defaults)",
    )
