"""The governance page names data providers: the registry's name in the visitor's language, else the bank's or
hospital's of that code (providers attributed row by row); a code no one has keeps showing as itself."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind
from jinyu.web.pages.common import provider_names
from tests.fixtures.auth import make_org


def test_registry_then_banks_and_hospitals_by_code(session: Session) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, name="示例银行 / Example Bank")
    hospital = make_org(session, OrgKind.HOSPITAL, name="第一医院")
    session.commit()
    codes = ["BUREAU-SAMR", bank.code, hospital.code, "NOBODY"]
    assert provider_names(session, codes, "zh") == {
        "BUREAU-SAMR": "市场监督管理局",
        bank.code: "示例银行 / Example Bank",
        hospital.code: "第一医院",
    }
    assert provider_names(session, ["BUREAU-SAMR"], "en") == {"BUREAU-SAMR": "market regulation bureau"}
