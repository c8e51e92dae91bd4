"""Pure rules of level approvals: which levels need one, how long one may last, when one is in force."""

from __future__ import annotations

import datetime as dt

# Levels that need an approval on the grant (JR/T 0197 levels 4 and 5).
APPROVABLE_LEVELS = (4, 5)
# An approval is time-boxed: at most 90 days, and never beyond the grant it is recorded on.
MAX_APPROVAL = dt.timedelta(days=90)


def window_problem(valid_from: dt.datetime, valid_until: dt.datetime, grant_until: dt.datetime) -> str | None:
    if valid_until <= valid_from:
        return "截止时间必须晚于开始时间 / valid_until must be after valid_from"
    if valid_until - valid_from > MAX_APPROVAL:
        return "审批最长 90 天 / an approval lasts at most 90 days"
    if valid_until > grant_until:
        return "审批不得超出授权期限 / an approval may not outlast its grant"
    return None


def in_force(
    valid_from: dt.datetime, valid_until: dt.datetime, at: dt.datetime, revoked_at: dt.datetime | None = None
) -> bool:
    """In its window, and not revoked at or before `at` (a revocation ends it early, for good)."""
    return valid_from <= at < valid_until and (revoked_at is None or at < revoked_at)
