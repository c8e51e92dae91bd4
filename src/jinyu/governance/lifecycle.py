"""The remediation lifecycle (pure): open → assigned → fixed → verified, and who may move an item.

- open: a check found failures of a rule for a provider and period; nobody owns the item yet.
- assigned: the hub's data team gave it to the providing organisation (a named person there, optionally).
- fixed: the provider answered (what was wrong, what it resubmitted).
- verified: a later check found no failures of that rule for that provider and period; closed.
A check that still finds failures on a `fixed` item sends it back to `assigned`. Any state but `verified` may
become `verified` through a check (a defect can be cured by data arriving, e.g. a missing enterprise).
"""

from __future__ import annotations

from jinyu.core.errors import Conflict

OPEN, ASSIGNED, FIXED, VERIFIED = "open", "assigned", "fixed", "verified"
STATUSES = (OPEN, ASSIGNED, FIXED, VERIFIED)

# (from, to) -> who moves it: "manager" (the hub's data team), "provider" (the item's organisation), "check".
_MOVES: dict[tuple[str, str], str] = {
    (OPEN, ASSIGNED): "manager",
    (ASSIGNED, ASSIGNED): "manager",
    (ASSIGNED, FIXED): "provider",
    (OPEN, FIXED): "provider",
    (FIXED, ASSIGNED): "check",
    (OPEN, VERIFIED): "check",
    (ASSIGNED, VERIFIED): "check",
    (FIXED, VERIFIED): "check",
}


def check_move(current: str, target: str, actor: str) -> None:
    """Raise `Conflict` unless `actor` may move an item from `current` to `target`."""
    allowed = _MOVES.get((current, target))
    if allowed != actor:
        raise Conflict(
            detail=f"整改单不能从 {current} 变为 {target}（{actor}）/ a remediation item cannot go from "
            f"{current} to {target} by {actor}"
        )


def after_check(current: str, failed: int) -> str:
    """The status a fresh check gives an item: verified when its failures are gone; a `fixed` item that
    still fails goes back to `assigned`; otherwise unchanged."""
    if current == VERIFIED:
        return VERIFIED
    if failed == 0:
        return VERIFIED
    return ASSIGNED if current == FIXED else current
