"""A report by liability groups by code; the console names each code as the products the caller may read name it
(`claim.service.liability_names`), so another product's liability is shown in words, not as its code."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jinyu.claim import service
from jinyu.web.pages.regulator import _liability
from tests.claim.factories import sample_definition, world


def _renamed(code: str, name: str) -> list[dict[str, Any]]:
    liabilities: list[dict[str, Any]] = sample_definition()["liabilities"]
    return [{**liabilities[0], "code": code, "name": name}, *liabilities[1:]]


def test_codes_are_named_by_the_readable_products(session: Session) -> None:
    dental = world(session, liabilities=_renamed("dental", "牙科费用 / Dental costs"))
    other = world(session, liabilities=_renamed("dental", "口腔费用 / Oral care"))
    session.commit()
    mine = service.liability_names(session, dental.insurer_staff, ["dental", "outlist", "nosuch"])
    assert mine == {
        "dental": ["牙科费用 / Dental costs"],
        "outlist": ["医保目录外住院医疗费用 / Out-of-list inpatient costs"],
    }
    # an insurer reads its own products only: the other insurer's name for the same code is not shown to it
    assert service.liability_names(session, other.insurer_staff, ["dental"]) == {
        "dental": ["口腔费用 / Oral care"]
    }


def test_the_console_prefers_its_own_text_then_the_products_names() -> None:
    named = {"dental": ["口腔费用 / Oral care", "牙科费用 / Dental costs"], "inlist": ["目录内 / In-list"]}
    assert _liability("dental", named, "zh") == "口腔费用、牙科费用"
    assert _liability("dental", named, "en") == "Oral care; Dental costs"
    assert (
        _liability("inlist", named, "zh") == "医保目录内住院医疗费用"
    )  # the console's own text for shipped codes
    assert _liability("nosuch", named, "zh") == "nosuch"
