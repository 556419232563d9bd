"""`floorwatch run --state-dir`: the engine's state, the connector's and the source position
saved together, atomically; a restart (also after kill -9) puts all three back."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

import orjson

from streams.core.engine import Engine
from streams.core.event_ids import StoredIds
from streams.core.histogram import Histogram
from streams.runtimes.follow import Position
from streams.runtimes.records import RecordMapper

STATE_FILE = "state.json"
VERSION = 1
SAVE_SECONDS = 5.0
MERGE_FILES = 64  # id files kept before they are merged into one


class StateDirError(Exception):
    """The state directory cannot be used (not writable, damaged, or written for another
    source or format): the message says why, in one line."""


def snapshot_engine(engine: Engine) -> dict[str, Any]:
    """Every stored value of a one-process engine: contacts (and parked events), agents,
    queues (windows, open contacts, agents), the pipeline counters and the clock."""
    tracker = engine.contacts
    contacts = {}
    for contact_id in [*tracker.contacts, *tracker.parked]:
        value = tracker.snapshot(contact_id)
        if value is not None:
            contacts[contact_id] = value
    agents = engine.agent_tracker
    queues = sorted({qc.queue for qc in engine.queues.tracked} | set(engine.agents.queues))
    pipeline = engine.pipeline
    return {
        "now": engine.now if engine.now > float("-inf") else None,
        "contacts": contacts,
        "agents": {agent_id: agents.snapshot(agent_id) for agent_id in agents.agents},
        "activity": {agent_id: record.snapshot() for agent_id, record in tracker.activity.items()},
        "queues": {queue: engine.queues.snapshot_queue(queue) for queue in queues},
        "pipeline": {
            "processed": pipeline.processed,
            "rejected": pipeline.rejected,
            "ignored": pipeline.ignored,
            "duplicates": pipeline.duplicates,
            "late": pipeline.late,
            "last_event_ts": pipeline.last_event_ts,
            "lag": pipeline.lag.snapshot(),
        },
    }


def restore_engine(engine: Engine, value: dict[str, Any]) -> None:
    """Put a `snapshot_engine` value into a fresh engine: the clock first (the queues'
    reading clock must run), then every stored value, as a restarted worker does."""
    now = value["now"]
    if now is not None:
        engine.clock.observe(now)  # event time moves; a wall clock ignores it
        engine.advance(now)
    for contact_id, stored in value["contacts"].items():
        engine.contacts.restore(contact_id, stored)
    engine.contacts.restored()
    for agent_id, stored in value.get("activity", {}).items():  # older states have none
        engine.contacts.restore_activity(agent_id, stored)
    for agent_id, stored in value["agents"].items():
        engine.agent_tracker.restore(agent_id, stored)
    for queue, stored in value["queues"].items():
        engine.queues.restore_queue(queue, stored)
    saved = value["pipeline"]
    pipeline = engine.pipeline
    pipeline.processed.update(saved["processed"])
    pipeline.rejected.update(saved["rejected"])
    pipeline.ignored.update(saved["ignored"])
    pipeline.duplicates = saved["duplicates"]
    pipeline.late = saved["late"]
    pipeline.last_event_ts = saved["last_event_ts"]
    pipeline.lag = Histogram.restore(saved["lag"])


def _write(path: Path, data: bytes) -> None:
    """Write a file so that it is either the old one or the whole new one (fsync, rename)."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _sync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs directories
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class StateDir:
    """One source's saved state in a directory: `state.json` (engine, connector, source
    position, written whole or not at all) and the remembered event ids in immutable
    files `ids-<n>.json`, one per save that added ids, merged into one when there are
    more than MERGE_FILES; `state.json` lists which chunk of ids each file holds. New
    files are written before it, files it no longer needs deleted after."""

    def __init__(self, path: str, source: str, format_name: str) -> None:
        self.path = Path(path)
        self.source = source
        self.format = format_name
        self.ids: StoredIds | None = None
        self.files: dict[str, list[str]] = {}  # file name -> the chunk keys it holds
        self.next_file = 0
        self.saves = 0

    def prepare(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateDirError(
                f"--state-dir {self.path}: cannot be created: {exc.strerror}"
            ) from None
        if not self.path.is_dir() or not os.access(self.path, os.W_OK):
            raise StateDirError(f"--state-dir {self.path}: not a writable directory")

    def attach(self, engine: Engine) -> None:
        """Swap the engine's id memory for one that reports what it added since a save."""
        self.ids = StoredIds(0, engine.settings.engine.dedup_capacity)
        engine.intake.ids = self.ids

    def load(self, engine: Engine, mapper: RecordMapper | None) -> Position | None:
        """Restore what was saved (nothing on a first start); the source position to
        resume at. Refuses a directory written for another source or format."""
        state_file = self.path / STATE_FILE
        try:
            raw = state_file.read_bytes()
        except FileNotFoundError:
            self._clean()
            return None
        except OSError as exc:
            raise StateDirError(f"--state-dir {self.path}: {STATE_FILE}: {exc.strerror}") from None
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise StateDirError(
                f"--state-dir {self.path}: {STATE_FILE} is not valid JSON; remove the "
                "directory to start afresh"
            ) from None
        if not isinstance(value, dict) or value.get("version") != VERSION:
            raise StateDirError(f"--state-dir {self.path}: written by another version")
        if value["source"] != self.source or value["format"] != self.format:
            raise StateDirError(
                f"--state-dir {self.path} holds the state of --source {value['source']} "
                f"--format {value['format']}; give another --state-dir for this source"
            )
        restore_engine(engine, value["engine"])
        if mapper is not None and value["connector"] is not None:
            mapper.restore(value["connector"])
        assert self.ids is not None
        self.files = {name: list(keys) for name, keys in value["ids"].items()}
        self.next_file = value["next_file"]
        for name, keys in self.files.items():
            chunks = orjson.loads((self.path / name).read_bytes())
            for key in keys:
                self.ids.restore(key, chunks[key])
        self.ids.restored()
        self._clean()
        position = value["position"]
        return Position.load(position) if position is not None else None

    def save(self, engine: Engine, mapper: RecordMapper | None, position: Position | None) -> None:
        """Save everything now; the old state stays whole until the new one is."""
        assert self.ids is not None
        new: dict[str, list[str]] = {}
        gone = set()
        for key, ids in self.ids.changed():
            if ids is None:
                gone.add(key)
            else:
                new[key] = ids
        files = {name: [k for k in keys if k not in gone] for name, keys in self.files.items()}
        files = {name: keys for name, keys in files.items() if keys}
        if new and len(files) >= MERGE_FILES:  # one file for all, instead of one more
            merged: dict[str, list[str]] = {}
            for name, keys in files.items():
                held = orjson.loads((self.path / name).read_bytes())
                merged.update((key, held[key]) for key in keys)
            merged.update(new)
            name = self._name()
            _write(self.path / name, orjson.dumps(merged))
            files = {name: list(merged)}
        elif new:
            name = self._name()
            _write(self.path / name, orjson.dumps(new))
            files[name] = list(new)
        value = {
            "version": VERSION,
            "source": self.source,
            "format": self.format,
            "saved_at": time.time(),
            "position": position.dump() if position is not None else None,
            "connector": mapper.snapshot() if mapper is not None else None,
            "ids": files,
            "next_file": self.next_file,
            "engine": snapshot_engine(engine),
        }
        _write(self.path / STATE_FILE, orjson.dumps(value))
        _sync_dir(self.path)
        stale = set(self.files) - set(files)
        self.files = files
        for name in stale:
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        self.saves += 1

    def _name(self) -> str:
        self.next_file += 1
        return f"ids-{self.next_file}.json"

    def _clean(self) -> None:
        """Files no state lists (a save interrupted before its state was written)."""
        for path in self.path.glob("ids-*.json"):
            if path.name not in self.files:
                path.unlink()
        for path in self.path.glob("*.tmp"):
            path.unlink()
