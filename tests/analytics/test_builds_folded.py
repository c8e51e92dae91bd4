"""`builds.Folded`: asks arriving while the build runs are folded into one more piece of work per key, with the
latest value; a piece that fails does not stop the others; the build ends when nothing is pending."""

from __future__ import annotations

import threading

from jinyu.analytics import builds


def test_asks_during_a_run_are_folded_per_key_with_the_latest_value() -> None:
    started, release = threading.Event(), threading.Event()
    done: list[tuple[str, int]] = []

    def work(run: builds.Build, key: str, value: int) -> None:
        if not done and not started.is_set():
            started.set()
            release.wait(5)
        done.append((key, value))

    folded: builds.Folded[str, int] = builds.Folded("test-folded", work)
    folded.ask("a", 1)
    assert started.wait(5)
    for value in (2, 3, 4):  # three asks for "a" while the first piece runs
        folded.ask("a", value)
    folded.ask("b", 7)
    release.set()
    assert folded.wait(5)
    assert done[0] == ("a", 1)
    assert sorted(done[1:]) == [("a", 4), ("b", 7)]  # one more "a", the latest value; "b" once


def test_a_failing_piece_is_logged_and_the_rest_goes_on() -> None:
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def work(run: builds.Build, key: str, value: None) -> None:
        if key == "bad":
            started.set()
            release.wait(5)
            raise RuntimeError("spoiled")
        done.append(key)

    folded: builds.Folded[str, None] = builds.Folded("test-folded-failing", work)
    folded.ask("bad", None)
    assert started.wait(5)
    folded.ask("good", None)  # pending in the same build, behind the piece that will fail
    release.set()
    assert folded.wait(5)
    assert done == ["good"]


def test_a_new_ask_after_the_build_ended_starts_another() -> None:
    seen: list[int] = []
    folded: builds.Folded[str, int] = builds.Folded("test-folded-restart", lambda run, k, v: seen.append(v))
    folded.ask("x", 1)
    assert folded.wait(5)
    folded.ask("x", 2)
    assert folded.wait(5)
    assert seen == [1, 2]
