"""The gate that keeps 401 floods out of the audit trail: one entry per address per interval, a cap per interval
in all, bounded memory — and every refusal left out is reported by a later entry."""

from __future__ import annotations

from jinyu.audit.rejections import Admitted, RejectionGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_entry_per_address_per_interval_then_the_count_left_out() -> None:
    clock = Clock()
    gate = RejectionGate(60, clock=clock)

    assert gate.admit("203.0.113.7") == Admitted(0, 0)
    assert [gate.admit("203.0.113.7") for _ in range(99)] == [None] * 99
    assert gate.admit("198.51.100.1") == Admitted(0, 0)  # another address is not held up
    clock.now += 59.9
    assert gate.admit("203.0.113.7") is None
    clock.now += 0.1
    assert gate.admit("203.0.113.7") == Admitted(100, 0)


def test_a_spray_from_many_addresses_is_capped_and_accounted_for() -> None:
    clock = Clock()
    gate = RejectionGate(60, cap=10, clock=clock)

    written = [a for a in (gate.admit(f"10.0.{i // 256}.{i % 256}") for i in range(5000)) if a is not None]

    assert len(written) == 10  # the trail got 10 entries for 5,000 refusals
    clock.now += 60
    report = gate.admit("192.0.2.1")
    assert report == Admitted(0, 4990)  # the rest is reported by the next entry written


def test_memory_is_bounded_and_nothing_is_lost() -> None:
    clock = Clock()
    gate = RejectionGate(60, cap=1000, max_addresses=5, clock=clock)

    admitted = [gate.admit(f"a{i}") for i in range(8)]
    assert sum(a is not None for a in admitted) == 5  # five slots; three refusals counted elsewhere
    for i in range(5):
        assert gate.admit(f"a{i}") is None  # each of the five now has one left out

    clock.now += 60
    total = 0
    for i in range(5):
        entry = gate.admit(f"a{i}")
        assert entry is not None
        total += entry.suppressed + entry.suppressed_elsewhere
    assert total == 3 + 5  # all eight refusals left out are reported
