"""Organisation kinds that provide or may read the foundation datasets (shared by its contract modules)."""

from __future__ import annotations

from jinyu.core.auth import OrgKind

BANK_KINDS = frozenset({OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET})
BUREAUS = frozenset({OrgKind.BUREAU})
REGULATOR = frozenset({OrgKind.REGULATOR})
