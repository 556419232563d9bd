"""Structured logs: one JSON object per line on stderr, repeats rate-limited.

Records carry ids and counts only — never event payloads or customer data.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# Loggers of the Kafka clients: every level of theirs is rate-limited (their retry
# loops log each attempt; a 35 s broker outage wrote some 134,000 lines per worker).
CLIENT_LOGGERS = frozenset({"aiokafka", "kafka", "faust", "mode"})
SUMMARY_WINDOW_SECONDS = 60.0

Schedule = Callable[[float, Callable[[], None]], None]  # (delay in seconds, what to run)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, the record's
    extra fields, and the traceback as `error` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


@dataclass
class _Kind:
    since: float  # start of the current window
    suppressed: int = 0


def _daemon_timer(delay: float, run: Callable[[], None]) -> None:
    timer = threading.Timer(delay, run)
    timer.daemon = True  # never holds the process up at exit
    timer.start()


class RateLimit(logging.Filter):
    """Lets the first record of a kind (logger, level and message template) through,
    then holds that kind back for `window_seconds`; when the window ends with records
    held back, `emit` receives one summary record with their count (`suppressed`), and
    the next window starts. Applies to warnings and errors of every logger and to
    every record of the Kafka clients' loggers (`CLIENT_LOGGERS`)."""

    def __init__(
        self,
        emit: Callable[[logging.LogRecord], object],
        window_seconds: float = SUMMARY_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule = _daemon_timer,
    ) -> None:
        super().__init__()
        self.emit = emit
        self.window_seconds = window_seconds
        self.clock = clock
        self.schedule = schedule
        self.kinds: dict[tuple[str, int, str], _Kind] = {}
        self.lock = threading.Lock()  # records come from several threads (aiokafka's)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "suppressed", None) is not None:  # a summary of ours
            return True
        if record.levelno < logging.WARNING and record.name.split(".")[0] not in CLIENT_LOGGERS:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self.lock:
            kind = self.kinds.get(key)
            if kind is None or (not kind.suppressed and now - kind.since >= self.window_seconds):
                self.kinds[key] = _Kind(now)  # the first of its kind, or the first for long
                return True
            if not kind.suppressed:
                self.schedule(kind.since + self.window_seconds - now, self.flush)
            kind.suppressed += 1  # a summary is due at the window's end
            return False

    def flush(self, everything: bool = False) -> None:
        """Summaries of the windows that have ended with records held back (of every
        window with records held back if `everything`, at exit). A kind whose window
        ended with none held back is forgotten: its next record goes through."""
        now = self.clock()
        summaries = []
        next_end = None  # of a window still open with records held back
        with self.lock:
            for key, kind in list(self.kinds.items()):
                end = kind.since + self.window_seconds
                if now < end and not (everything and kind.suppressed):
                    if kind.suppressed and (next_end is None or end < next_end):
                        next_end = end
                elif kind.suppressed:
                    summaries.append(_summary(key, kind, now))
                    self.kinds[key] = _Kind(now)
                else:
                    del self.kinds[key]
        if next_end is not None:
            self.schedule(next_end - now, self.flush)
        for summary in summaries:
            self.emit(summary)


def _summary(key: tuple[str, int, str], kind: _Kind, now: float) -> logging.LogRecord:
    name, level, template = key
    seconds = round(now - kind.since)
    return logging.makeLogRecord(
        {
            "name": name,
            "levelno": level,
            "levelname": logging.getLevelName(level),
            "msg": "%d more like %r in the last %d s (rate-limited)",
            "args": (kind.suppressed, template, seconds),
            "suppressed": kind.suppressed,
            "window_seconds": seconds,
        }
    )


def flush_suppressed() -> None:
    """The count of every record held back so far, from the root logger's handlers
    (at exit: a window still open would otherwise take its count with it)."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, RateLimit):
                found.flush(everything=True)


atexit.register(flush_suppressed)


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RateLimit(handler.handle))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
