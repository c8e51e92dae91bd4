"""The planted head-count declines of chain members (generator 1.8): who, from when, and that they show."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from jinyu.synth import Manifest
from jinyu.synth.chain_cases import DECLINES_FILE
from jinyu.synth.govdata import DECLINE_RATE, DECLINE_SHARE

from .conftest import read_rows


def test_a_share_of_each_chain_declines_from_its_onset(region_dir: Path, manifest: Manifest) -> None:
    with (region_dir / DECLINES_FILE).open(encoding="utf-8", newline="") as f:
        declines = list(csv.DictReader(f))
    members = read_rows(region_dir, manifest, "chain_members")
    core = {m["uscc"] for m in members if str(m["is_core"]).lower() in ("true", "1")}
    non_core = Counter(m["chain_code"] for m in members if m["uscc"] not in core)
    # the planted contagion case's members join after the declines are drawn: not candidates
    with (region_dir / "chain_cases.csv").open(encoding="utf-8", newline="") as f:
        planted = Counter(r["chain_code"] for r in csv.DictReader(f) if r["chain_code"])
    per_chain = Counter(d["chain_code"] for d in declines)
    assert per_chain == {c: round((n - planted[c]) * DECLINE_SHARE) for c, n in non_core.items()}
    assert not core & {d["uscc"] for d in declines}
    heads = {
        (r["uscc"], r["period"]): int(r["social_insurance_count"])
        for r in read_rows(region_dir, manifest, "headcount_monthly")
    }
    periods = sorted({p for _, p in heads})
    shrank = 0
    for d in declines:
        start = periods.index(d["onset_month"])
        if start + 6 >= len(periods) or heads[(d["uscc"], periods[start])] < 5:
            continue  # too late in the window, or too small for the rounding to show 8 % a month
        before, after = heads[(d["uscc"], periods[start])], heads[(d["uscc"], periods[start + 6])]
        # 0.92^6 ≈ 0.61, times the ordinary drift (±3 % a month): below the health rule's 0.8
        assert after < 0.8 * before, (d, before, after)
        shrank += 1
    assert shrank >= 3 and DECLINE_RATE == 0.08
