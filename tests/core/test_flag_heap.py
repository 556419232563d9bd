"""The compact flag heap against a plain list of the same flags, sorted by `sorted`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.flag_heap import FlagHeap

# A push (due from a few values, so that many tie and `seq` decides) or a sweep that keeps
# the flags whose contact is not divisible by `k`.
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.sampled_from([0.0, 1.5, 2.0, 7.25, 1e9]), st.integers(0, 9)),
        st.tuples(st.just("keep"), st.integers(2, 4), st.just(0)),
    ),
    max_size=120,
)


def assert_heap_of(heap: FlagHeap[int], expected: list[tuple[float, int, int, int]]) -> None:
    entries = [heap.entry(i) for i in range(len(heap))]
    assert sorted(entries) == sorted(expected)
    for i in range(1, len(entries)):  # each parent before its children, by (due, seq)
        assert entries[(i - 1) // 2][:2] < entries[i][:2]


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_pushes_and_sweeps_keep_the_heap_order_and_exactly_the_kept_flags(
    ops: list[tuple[str, float | int, int]],
) -> None:
    heap: FlagHeap[int] = FlagHeap()
    model: list[tuple[float, int, int, int]] = []
    seq = 0
    for op, value, contact in ops:
        if op == "push":
            seq += 1
            heap.push(float(value), seq, contact, seq % 3)
            model.append((float(value), seq, contact, seq % 3))
        else:
            k = int(value)

            def wanted(contact: int, kind: int, k: int = k) -> bool:
                return contact % k != 0

            heap.keep(wanted)
            model = [flag for flag in model if wanted(flag[2], flag[3])]
        assert_heap_of(heap, model)


def test_equal_dues_come_in_seq_order_whatever_the_push_order() -> None:
    heap: FlagHeap[str] = FlagHeap()
    for seq, name in [(5, "e"), (3, "c"), (4, "d"), (1, "a"), (2, "b")]:
        heap.push(10.0, seq, name, 1)
    assert heap.entry(0) == (10.0, 1, "a", 1)
    heap.keep(lambda name, kind: name != "a")
    assert heap.entry(0) == (10.0, 2, "b", 1)
    assert len(heap) == 4
