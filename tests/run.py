"""`make test`: import contracts, lint and types, the main suite (SQLite + PostgreSQL, in parallel),
then the Spark suite, then the browser suite (the console in Chromium).

Under CI (JINYU_REQUIRE_SUITES=postgres,spark,browser) a skipped test of a required suite fails the run, and so
does a required suite that ran no test at all; elsewhere the run passes but says loudly what it skipped. Ends
with one plain line: 'N passed, N failed, N skipped'.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REQUIRED_MARKERS = ("postgres", "spark", "browser")
# What to do when a suite was skipped: how to get what it needs.
REMEDY = {
    "postgres": "set JINYU_TEST_POSTGRES_URL",
    "spark": "install Java 17 + pyspark",
    "browser": "run `make browser-deps` (Debian Chromium) and `make bootstrap` (Playwright)",
}


class Tally:
    """Counts outcomes and remembers skipped tests of the required suites."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.required_skips: list[str] = []
        self.passed_by_marker: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = "skipped" if report.skipped else report.outcome
            self.counts[outcome] += 1
            if report.skipped and set(REQUIRED_MARKERS) & set(report.keywords):
                self.required_skips.append(report.nodeid)
            if report.passed:
                self.passed_by_marker.update(set(REQUIRED_MARKERS) & set(report.keywords))


def _tool(name: str) -> str:
    """A tool of the environment this interpreter runs in (works with or without `uv run`)."""
    return str(Path(sys.executable).parent / name)


def _run(args: list[str], tally: Tally) -> int:
    return int(pytest.main(args, plugins=[tally]))


def main() -> int:
    required = [m for m in os.environ.get("JINYU_REQUIRE_SUITES", "").split(",") if m]
    for title, cmd in (
        ("import contracts (import-linter)", [_tool("lint-imports")]),
        ("lint (ruff)", [_tool("ruff"), "check", "src", "tests", "benchmarks"]),
        ("format (ruff format --check)", [_tool("ruff"), "format", "--check", "src", "tests", "benchmarks"]),
        ("types (mypy --strict on src)", [_tool("mypy")]),
    ):
        print(f"== {title}", flush=True)
        if subprocess.call(cmd) != 0:
            print(f"{title} failed / 静态检查失败", file=sys.stderr)
            return 1
    tally = Tally()
    print("== main suite (SQLite and PostgreSQL)", flush=True)
    main_rc = _run(
        [
            "-m",
            "not spark and not browser",
            "-n",
            os.environ.get("JINYU_TEST_WORKERS", "2"),
            "-q",
            "--durations=20",  # the slowest tests, printed so CI's time (limit 30 min) can be watched
            "-p",
            "no:cacheprovider",
        ],
        tally,
    )
    print("== Spark parity suite", flush=True)
    spark_rc = _run(["-m", "spark", "-q", "-p", "no:cacheprovider"], tally)
    print("== browser suite (the console in Chromium)", flush=True)
    browser_rc = _run(["-m", "browser", "-q", "-p", "no:cacheprovider"], tally)
    failed = [rc for rc in (main_rc, spark_rc, browser_rc) if rc not in (0, 5)]
    if tally.required_skips:
        banner = "!" * 78
        print(
            f"\n{banner}\nSKIPPED REQUIRED SUITES / 跳过了必需的测试套件 ({len(tally.required_skips)} tests):",
            file=sys.stderr,
        )
        for nodeid in tally.required_skips[:20]:
            print(f"  - {nodeid}", file=sys.stderr)
        print("To run them: " + "; ".join(REMEDY.values()) + "\n" + banner, file=sys.stderr)
        if required:
            failed.append(1)
    for marker in required:
        if marker in REMEDY and tally.passed_by_marker[marker] == 0:
            print(
                f"REQUIRED SUITE RAN NO TEST / 必需的测试套件没有运行: {marker} ({REMEDY[marker]})",
                file=sys.stderr,
            )
            failed.append(1)
    c = tally.counts
    print(f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped", flush=True)
    if c["passed"] == 0:
        print("no test ran / 没有运行任何测试", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
