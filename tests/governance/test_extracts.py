"""De-identified extracts (docs/data-security.md, "De-identified extracts"), by hand-worked cases: direct
identifiers re-keyed per extract, k counted in persons, level 4 refused, regulators only, audited."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.policy import extract_rules
from jinyu.governance.policy.kanon import anonymize
from jinyu.ingest.pipeline import arrow_schema
from tests.fixtures.auth import login, make_org, make_user

URL = "/api/v1/extracts"
TOKENS = [f"pt_{i:032x}" for i in range(1, 7)]  # six insured persons, as ingestion stores them


def _insured() -> pa.Table:
    """P1..P5 enrolled 2023-11-01..05, one product each; P6 enrolled 2024-01-10 in five products."""
    rows = [(TOKENS[i], "CQ-A", dt.date(2023, 11, i + 1)) for i in range(5)]
    rows += [(TOKENS[5], f"CQ-{n}", dt.date(2024, 1, 10)) for n in range(5)]
    schema = arrow_schema(CONTRACTS["claim_insured"])
    return pa.table(
        {
            "person_id": [r[0] for r in rows],
            "product_code": [r[1] for r in rows],
            "policy_year": [r[2].year for r in rows],
            "pre_existing": [None] * len(rows),
            "premium": [Decimal("69.00")] * len(rows),
            "enrolled_on": [r[2] for r in rows],
        },
        schema=schema,
    )


def test_k_counts_persons_when_a_person_column_is_named() -> None:
    """Counting rows, 2024-01 holds five rows and passes at month; counting persons it holds one person, so
    the date climbs to the year and P6's five rows are still alone: left out."""
    rows = _insured().to_pylist()
    by_rows = anonymize(rows, {"enrolled_on": "date"}, 5, 0.05)
    assert (by_rows.generalised, by_rows.suppressed) == ({"enrolled_on": "month"}, 0)
    by_persons = anonymize(rows, {"enrolled_on": "date"}, 5, 0.05, person="person_id")
    assert (by_persons.generalised, by_persons.suppressed) == ({"enrolled_on": "year"}, 5)
    assert sorted({r["person_id"] for r in by_persons.rows}) == TOKENS[:5]
    assert {r["enrolled_on"] for r in by_persons.rows} == {"2023"}


def test_the_plan_names_what_leaves_how() -> None:
    plan = extract_rules.plan(CONTRACTS["claim_insured"], ["person_id", "enrolled_on", "premium"])
    assert (plan.pseudonymized, dict(plan.quasi), plan.person) == (
        ("person_id",),
        {"enrolled_on": "date"},
        "person_id",
    )
    with pytest.raises(Exception, match="level 4"):
        extract_rules.plan(CONTRACTS["claim_visits"], ["setl_time", "dise_codg"])
    with pytest.raises(Exception, match="unknown columns"):
        extract_rules.plan(CONTRACTS["claim_insured"], ["person_id", "salary"])
    key = b"k" * 32
    assert extract_rules.pseudonym(key, "pt_1") == extract_rules.pseudonym(key, "pt_1")
    assert extract_rules.pseudonym(key, "pt_1") != extract_rules.pseudonym(b"j" * 32, "pt_1")
    assert (
        extract_rules.as_text(Decimal("69.00")) == "69.00"
        and extract_rules.as_text(dt.date(2024, 1, 2)) == "2024-01-02"
    )


@pytest.fixture
def users(client: TestClient, session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    analyst = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    bank = make_user(session, make_org(session, OrgKind.BANK_HEAD_OFFICE), Role.BANK_HQ_RISK)
    session.commit()
    contract = CONTRACTS["claim_insured"]
    Lake(settings.lake_dir).append(
        "claim_insured", _insured(), "L1", partition_by=contract.partition_by, sort_by=contract.sort_by
    )
    return {"analyst": login(client, analyst.username), "bank": login(client, bank.username)}


def _ask(client: TestClient, headers: dict[str, str], **body: object) -> dict:  # type: ignore[type-arg]
    body = {"dataset": "claim_insured", "reason": "参保结构研究", **body}
    resp = client.post(URL, headers=headers, json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_an_extract_is_k_anonymous_in_persons_and_re_keyed(
    client: TestClient, session: Session, users: dict[str, dict[str, str]]
) -> None:
    out = _ask(client, users["analyst"], columns=["person_id", "enrolled_on", "premium"])
    assert out["rows_read"] == 10 and len(out["rows"]) == 5 and out["counted_by"] == "person_id"
    assert out["disclosure"] == {
        "rule": "k_anonymity",
        "k": 5,
        "suppressed": 5,
        "generalised": {"enrolled_on": "year"},
    }
    assert {r["enrolled_on"] for r in out["rows"]} == {"2023"} and {r["premium"] for r in out["rows"]} == {
        "69.00"
    }
    seen = {r["person_id"] for r in out["rows"]}
    assert len(seen) == 5 and all(p.startswith("px_") and len(p) == 19 for p in seen)
    assert not seen & set(TOKENS)  # the hub's own tokens never leave
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "policy.extract")).one()
    assert json.loads(entry.subject_ids) == ["claim_insured"] and entry.purpose == "参保结构研究"
    detail = json.loads(entry.detail)
    assert (detail["rows_read"], detail["rows_out"], detail["suppressed"]) == (10, 5, 5)


def test_pseudonyms_link_rows_inside_one_extract_only(
    client: TestClient, users: dict[str, dict[str, str]]
) -> None:
    first = _ask(client, users["analyst"], columns=["person_id", "product_code"])  # no quasi-identifier
    assert first["disclosure"]["suppressed"] == 0 and len(first["rows"]) == 10
    assert len({r["person_id"] for r in first["rows"]}) == 6  # P6's five products share one pseudonym
    second = _ask(client, users["analyst"], columns=["person_id", "product_code"])
    assert not {r["person_id"] for r in first["rows"]} & {r["person_id"] for r in second["rows"]}


def test_a_month_window_reads_only_its_partitions(
    client: TestClient, users: dict[str, dict[str, str]]
) -> None:
    out = _ask(
        client,
        users["analyst"],
        columns=["product_code", "premium"],
        from_month="2024-01",
        to_month="2024-01",
    )
    assert out["rows_read"] == 5 and {r["product_code"] for r in out["rows"]} == {f"CQ-{n}" for n in range(5)}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"columns": ["person_id", "salary"]}, 422, "columns"),
        ({"dataset": "claim_visits", "columns": ["setl_time", "dise_codg"]}, 422, "columns"),
        ({"dataset": "nope", "columns": ["x"]}, 422, "dataset"),
        ({"dataset": "transfers", "columns": ["amount"]}, 404, None),  # not loaded
        ({"columns": ["premium"], "limit": 0}, 422, "limit"),
    ],
)
def test_bad_requests_are_refused_plainly(
    client: TestClient,
    users: dict[str, dict[str, str]],
    body: dict,
    status: int,
    field: str | None,  # type: ignore[type-arg]
) -> None:
    resp = client.post(
        URL, headers=users["analyst"], json={"dataset": "claim_insured", "reason": "研究用途", **body}
    )
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in resp.text


def test_only_regulators_take_extracts(client: TestClient, users: dict[str, dict[str, str]]) -> None:
    resp = client.post(
        URL,
        headers=users["bank"],
        json={"dataset": "claim_insured", "columns": ["premium"], "reason": "研究用途"},
    )
    assert resp.status_code == 403
