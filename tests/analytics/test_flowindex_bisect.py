"""`flowindex._bisect`: per-row binary search within each node's sorted slice, the same whether it runs per row
(small frontiers) or vectorised (large ones), and equal to Python's `bisect` on each slice."""

from __future__ import annotations

import bisect

import numpy as np
import pytest

from jinyu.analytics import flowindex


def _case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 6, size=40)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = np.concatenate([np.sort(rng.integers(0, 20, size=int(s))) for s in sizes]).astype(np.int64)
    nodes = rng.integers(0, 40, size=int(rng.integers(1, 150)))
    bounds = rng.integers(-1, 22, size=nodes.shape[0]).astype(np.int64)
    return values, offsets[nodes], offsets[nodes + 1], bounds


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("right", [True, False])
def test_per_row_and_vectorised_agree_with_bisect(
    seed: int, right: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    values, lo, hi, x = _case(seed)
    search = bisect.bisect_right if right else bisect.bisect_left
    expected = [
        search(values.tolist(), b, s, e) for s, e, b in zip(lo.tolist(), hi.tolist(), x.tolist(), strict=True)
    ]
    monkeypatch.setattr(flowindex, "_PER_ROW", 10**9)
    per_row = flowindex._bisect(values, lo, hi, x, right=right)
    monkeypatch.setattr(flowindex, "_PER_ROW", -1)
    vectorised = flowindex._bisect(values, lo, hi, x, right=right)
    assert per_row.tolist() == expected == vectorised.tolist()
    assert per_row.dtype == vectorised.dtype == np.int64
