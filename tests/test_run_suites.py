"""`tests/run.py` counts what a required suite did: a skipped test of a required suite is remembered, and so is
a passed one per suite, so that a required suite that ran nothing (the browser suite without Chromium, say)
can fail the run."""

from __future__ import annotations

from types import SimpleNamespace

from tests.run import REQUIRED_MARKERS, Tally


def _report(nodeid: str, outcome: str, markers: set[str], when: str = "call") -> SimpleNamespace:
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        outcome=outcome,
        passed=outcome == "passed",
        skipped=outcome == "skipped",
        keywords={nodeid: 1, **{m: 1 for m in markers}},
    )


def test_browser_is_a_required_suite() -> None:
    assert "browser" in REQUIRED_MARKERS


def test_tally_remembers_skips_and_passes_per_required_suite() -> None:
    tally = Tally()
    tally.pytest_runtest_logreport(_report("b1", "skipped", {"browser"}, when="setup"))
    tally.pytest_runtest_logreport(_report("p1", "passed", {"postgres"}))
    tally.pytest_runtest_logreport(_report("plain", "passed", set()))
    assert tally.required_skips == ["b1"]
    assert tally.passed_by_marker["postgres"] == 1 and tally.passed_by_marker["browser"] == 0
    assert tally.counts == {"skipped": 1, "passed": 2}
