"""Fixtures of the tracing API tests: two bank head offices on the golden lake, and a regulator."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from jinyu.party.models import User
from tests.fixtures.auth import make_org, make_user

from .lake import golden_rows, write


@pytest.fixture
def users(session: Session, settings: Settings) -> dict[str, User]:
    """`hq`: a risk user of head office H1, whose loans the golden lake holds; `other`: one of H2; `regulator`:
    an analyst. The golden lake written to the app's lake directory."""
    h1 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    h2 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H2")
    found = {
        "hq": make_user(session, h1, Role.BANK_HQ_RISK),
        "other": make_user(session, h2, Role.BANK_HQ_RISK),
        "regulator": make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST),
    }
    session.commit()
    write(Lake(settings.lake_dir), golden_rows())
    return found
