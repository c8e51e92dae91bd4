"""Prepaid balances by insurer for the regulator's overview: sums per insurer, books below their threshold,
an insurer sees only its own, a hospital may not ask."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from jinyu.claim import service
from jinyu.core.auth import OrgKind, Role
from jinyu.core.errors import PermissionDenied
from tests.claim.factories import world
from tests.fixtures.auth import make_org, principal


def test_prepaid_by_insurer(session: Session) -> None:
    rich = world(session, deposit="2500000.00", threshold="100000.00")
    poor = world(session, deposit="50000.00", threshold="100000.00")  # below its alert threshold
    regulator = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    lines = {line.insurer_id: line for line in service.prepaid_by_insurer(session, regulator)}
    assert (lines[rich.insurer.id].prepaid, lines[rich.insurer.id].below_threshold) == (
        Decimal("2500000.00"),
        0,
    )
    assert (lines[poor.insurer.id].prepaid, lines[poor.insurer.id].below_threshold) == (
        Decimal("50000.00"),
        1,
    )
    own = service.prepaid_by_insurer(session, rich.insurer_staff)
    assert [(line.insurer_id, line.books) for line in own] == [(rich.insurer.id, 1)]
    with pytest.raises(PermissionDenied):
        service.prepaid_by_insurer(session, rich.his)
