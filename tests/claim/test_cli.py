"""`jinyu claim ...` end to end on a throwaway SQLite store: load the sample product, open and fund the
books, enroll, settle, reconcile and report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.claim.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.models import metadata
from jinyu.party import service as party
from jinyu.party.schemas import OrgCreate
from tests.claim.factories import SAMPLE
from tests.fixtures.auth import PASSWORD, make_user, resident_id

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        for kind, code in (
            (OrgKind.INSURER, "I0001"),
            (OrgKind.INSURER, "I0002"),
            (OrgKind.HOSPITAL, "H00001"),
            (OrgKind.PHARMACY, "PH0001"),
        ):
            org = party.create_org(s, SYSTEM, OrgCreate(kind=kind, code=code, name=f"{kind.value} {code}"))
            make_user(s, org, ROLE_OF[kind], username=USERS[code])
        make_user(s, party.create_org(s, SYSTEM, OrgCreate(kind=OrgKind.REGULATOR, code="REG1", name="监管")),
                  Role.REGULATOR_ANALYST, username="analyst")  # fmt: skip
    yield factory
    engine.dispose()
    get_settings.cache_clear()


# The organisations' users; every command logs in as one (--as-user, password on stdin) as the API would.
USERS = {"I0001": "ins1", "I0002": "ins2", "H00001": "his", "PH0001": "pharm"}
ROLE_OF = {OrgKind.INSURER: Role.INSURER_STAFF, OrgKind.HOSPITAL: Role.HOSPITAL_SYSTEM,
           OrgKind.PHARMACY: Role.PHARMACY_SYSTEM}  # fmt: skip


def run(*args: str, user: str | None = None) -> str:
    creds = ["--as-user", user, "--password-stdin"] if user else []
    result = runner.invoke(app, [*args, *creds], input=f"{PASSWORD}\n" if user else None)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_whole_flow_from_the_console(store: sessionmaker[Session], tmp_path: Path) -> None:
    assert "有效 / valid" in run("products", "check", str(SAMPLE))
    product = json.loads(run("products", "load", str(SAMPLE), "--activate", "--json", user="ins1"))
    assert (product["code"], product["status"]) == ("CQ-YKB-2025", "active")
    for insurer, amount in (("I0001", "600000"), ("I0002", "400000")):
        book = json.loads(
            run("books", "open", "--hospital", "H00001", "--year", "2025", "--json", user=USERS[insurer])
        )
        run("books", "post", book["id"], "--kind", "deposit", "--amount", amount, "--reference", "PP-1",
            user=USERS[insurer])  # fmt: skip
    certno = resident_id(seq=888)
    run("enroll", "--product", "CQ-YKB-2025", "--certno", certno, user="ins1")
    request = {
        "msg_id": "M-1",
        "certno": certno,
        "auto_confirm": True,
        "setlinfo": {
            "mdtrt_id": "V1",
            "setl_id": "S1",
            "setl_time": "2025-03-02T09:00:00",
            "medfee_sumamt": "50000.00",
            "fulamt_ownpay_amt": "10000.00",
            "inscp_scp_amt": "40000.00",
            "hifp_pay": "24000.00",
        },
    }
    (tmp_path / "req.json").write_text(json.dumps(request))
    settled = json.loads(run("settle", str(tmp_path / "req.json"), "--json", user="his"))
    assert (settled["status"], settled["payout"]) == ("settled", "4200.00")
    # co-insured 60/40: each insurer's book paid its share
    assert {i["org_code"]: i["amount"] for i in settled["outcome"]["insurers"]} == {
        "I0001": "2520.00",
        "I0002": "1680.00",
    }
    books = json.loads(run("books", "list", "--json", user="his"))["items"]
    assert sorted(b["balances"]["claims"] for b in books) == ["1680.00", "2520.00"]
    fhir = json.loads(run("show", settled["id"], "--fhir", user="ins1"))
    assert fhir["resourceType"] == "ClaimResponse" and fhir["outcome"] == "complete"
    day = {"business_date": "2025-03-02", "total_count": 1, "total_payout": "4200.00",
           "records": [{"mdtrt_id": "V1", "setl_id": "S1", "status": "settled", "payout": "4200.00"}]}  # fmt: skip
    (tmp_path / "day.json").write_text(json.dumps(day))
    assert (
        json.loads(run("reconcile", str(tmp_path / "day.json"), "--json", user="his"))["status"] == "matched"
    )
    report = json.loads(run("report", "--by", "insurer", "--json", user="analyst"))
    # One person paid: fewer than k = 5, so the regulator's report suppresses both insurers' cells and the totals.
    assert (report["report"]["total_payout"], report["report"]["suppressed_rows"]) == (None, 2)  # 2 insurers
    assert report["concentration"]["hospital_count"] == 1


def test_a_pharmacy_settles_a_purchase_from_the_console(store: sessionmaker[Session], tmp_path: Path) -> None:
    run("products", "load", str(SAMPLE), "--activate", user="ins1")
    for insurer in ("I0001", "I0002"):
        book = json.loads(
            run("books", "open", "--pharmacy", "PH0001", "--year", "2025", "--json", user=USERS[insurer])
        )
        run("books", "post", book["id"], "--kind", "deposit", "--amount", "50000", "--reference", "PP-1",
            user=USERS[insurer])  # fmt: skip
    certno = resident_id(seq=889)
    run("enroll", "--product", "CQ-YKB-2025", "--certno", certno, user="ins1")
    line = {"feedetl_sn": "1", "med_list_codg": "L01FF02", "det_item_fee_sumamt": "17900.00",
            "fulamt_ownpay_amt": "17900.00", "dise_codg": "C34.1"}  # fmt: skip
    setlinfo = {"mdtrt_id": "P1", "setl_id": "P1", "setl_time": "2025-03-02T09:00:00", "med_type": "41",
                "medfee_sumamt": "17900.00", "fulamt_ownpay_amt": "17900.00", "inscp_scp_amt": "0"}  # fmt: skip
    request = {"msg_id": "P-1", "certno": certno, "auto_confirm": True, "setlinfo": setlinfo, "lines": [line]}
    (tmp_path / "buy.json").write_text(json.dumps(request))
    # PH0001 is a designated pharmacy of the sample: 17,900 × 70 % = 12,530.00
    bought = json.loads(run("settle", str(tmp_path / "buy.json"), "--json", user="pharm"))
    assert (bought["status"], bought["payout"], bought["med_type"]) == ("settled", "12530.00", "41")
    # the hospital's system may not settle a pharmacy's purchase; no credentials at all is refused too
    hospital = runner.invoke(app, ["settle", str(tmp_path / "buy.json"), "--as-user", "his", "--password-stdin"],
                             input=f"{PASSWORD}\n")  # fmt: skip
    assert hospital.exit_code != 0
    nobody = runner.invoke(app, ["settle", str(tmp_path / "buy.json")])
    assert nobody.exit_code != 0 and "--as-user" in nobody.output
    no_terminal = runner.invoke(app, ["books", "list", "--as-user", "his"])  # no --password-stdin, no tty
    assert no_terminal.exit_code != 0 and "--password-stdin" in no_terminal.output
    wrong = runner.invoke(app, ["books", "list", "--as-user", "his", "--password-stdin"], input="nope\n")
    assert wrong.exit_code != 0 and "Traceback" not in wrong.output


def test_errors_exit_non_zero(store: sessionmaker[Session], tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("code: X\nyear: 1999\n")
    result = runner.invoke(app, ["products", "check", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 1 and "year" in result.output
