"""Keys of the contacts Table: `o:<partition>` a source partition's applied offset;
`c:<contact id>` a contact (or its parked events); `a:<agent id>` an agent;
`i:<partition>:<seq>` a chunk of remembered event ids; `p:<partition>:<agent id>` an
agent's activity from that partition's contact events. The queues Table holds
`o:<facts partition>` and `q:<queue name>` (bare names before: see `queues_table_entry`)."""

from __future__ import annotations

OFFSET = "o:"
CONTACT = "c:"
AGENT = "a:"
EVENT_IDS = "i:"
ACTIVITY = "p:"
QUEUE = "q:"


def offset_key(partition: int) -> str:
    return f"{OFFSET}{partition}"


def contact_key(contact_id: str) -> str:
    return CONTACT + contact_id


def agent_key(agent_id: str) -> str:
    return AGENT + agent_id


def event_ids_key(partition: int, seq: int) -> str:
    return f"{EVENT_IDS}{partition}:{seq}"


def activity_key(partition: int, agent_id: str) -> str:
    return f"{ACTIVITY}{partition}:{agent_id}"


def queue_key(queue: str) -> str:
    return QUEUE + queue


def queues_table_entry(key: str, value: bytes) -> tuple[str, str, bool]:
    """What a key of the queues Table holds: (OFFSET, the key, False) for a facts
    partition's applied offset, else (QUEUE, the queue's name, whether the key is the
    bare name of the old layout, where a queue named `o:<n>` shared its key with an
    offset). Such a queue is told from an offset by its value (JSON, never digits)."""
    if key.startswith(QUEUE):
        return QUEUE, key[len(QUEUE) :], False
    if key.startswith(OFFSET) and key[len(OFFSET) :].isdigit() and value.isdigit():
        return OFFSET, key, False
    return QUEUE, key, True


def kind_of(key: str) -> str:
    """The prefix of a key (one of OFFSET, CONTACT, AGENT, EVENT_IDS, ACTIVITY)."""
    prefix = key[:2]
    if prefix not in (OFFSET, CONTACT, AGENT, EVENT_IDS, ACTIVITY):
        raise ValueError(f"unknown contacts Table key {key!r}")
    return prefix


def subject(key: str) -> str:
    """What a contact or agent key names (the id after the prefix)."""
    return key[2:]


def offset_partition(key: str) -> int:
    """The source partition of an offset key."""
    return int(key[len(OFFSET) :])


def event_ids_position(key: str) -> tuple[int, int]:
    """(source partition, seq) of an event ids chunk key."""
    partition, _, seq = key[len(EVENT_IDS) :].partition(":")
    return int(partition), int(seq)


def activity_position(key: str) -> tuple[int, str]:
    """(source partition, agent id) of an activity key."""
    partition, _, agent_id = key[len(ACTIVITY) :].partition(":")
    return int(partition), agent_id
