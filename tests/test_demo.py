"""The demo end to end: an empty data dir becomes a loaded region with one user per role, and each user sees
exactly their own organisation's data."""

from __future__ import annotations

import json
import os
import stat

import pytest
from fastapi.testclient import TestClient

from jinyu.app import create_app
from jinyu.config import Settings, load_settings
from jinyu.demo import prepare


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("demo"))
    prepare(settings)
    return settings


def test_credentials_file_is_private_and_complete(demo_settings: Settings) -> None:
    path = demo_settings.data_dir / "credentials.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    roles = {c["role"].split(" ")[0] for c in json.loads(path.read_text())}
    assert roles == {
        "platform_admin",
        "regulator_analyst",
        "regulator_supervisor",
        "bank_hq_risk",
        "bank_branch_officer",
        "insurer_staff",
        "hospital_system",
        "enterprise_admin",
        "data_provider",
        "customer_manager",
        "financial_consultant",
    }


def test_prepare_twice_keeps_data(demo_settings: Settings) -> None:
    before = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    assert [c.__dict__ for c in prepare(demo_settings)] == before


def test_every_demo_user_sees_exactly_their_own_organisation(demo_settings: Settings) -> None:
    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    with TestClient(create_app(demo_settings)) as client:
        for cred in creds:
            if cred["username"].startswith("svc:"):
                headers = {"X-API-Key": cred["password"]}
            else:
                resp = client.post(
                    "/api/v1/auth/token", data={"username": cred["username"], "password": cred["password"]}
                )
                assert resp.status_code == 200, cred["username"]
                headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
            me = client.get("/api/v1/me", headers=headers).json()
            assert me["organisation"]["id"] == cred["org_id"]
            orgs = client.get("/api/v1/orgs?limit=500", headers=headers).json()
            sees_all = "org.read_all" in me["permissions"]
            if sees_all:
                assert orgs["total"] > 300  # the whole region
            else:
                assert cred["org_id"] in {o["id"] for o in orgs["items"]}
                assert all(o["tenant_id"] == me["organisation"]["tenant_id"] for o in orgs["items"])


def test_banks_see_only_their_own_accounts(demo_settings: Settings) -> None:
    creds = {c["username"]: c for c in json.loads((demo_settings.data_dir / "credentials.json").read_text())}
    seen: dict[str, set[str]] = {}
    with TestClient(create_app(demo_settings)) as client:
        for name in ("bank_risk", "bank2_risk", "bank_officer"):
            token = client.post(
                "/api/v1/auth/token", data={"username": name, "password": creds[name]["password"]}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            page = client.get("/api/v1/banking/accounts?limit=500", headers=headers).json()
            own_codes = {
                o["code"] for o in client.get("/api/v1/orgs?limit=500", headers=headers).json()["items"]
            }
            assert page["total"] > 0
            assert {a["bank_code"] for a in page["items"]} <= own_codes, name
            seen[name] = {a["account_no"] for a in page["items"]}
    assert not seen["bank_risk"] & seen["bank2_risk"]


def test_the_region_loaded_completely(demo_settings: Settings) -> None:
    manifest = json.loads((demo_settings.data_dir / "region" / "manifest.json").read_text())
    from jinyu.analytics import Lake

    lake = Lake(demo_settings.lake_dir)
    for name, entry in manifest["datasets"].items():
        rows = sum(f["rows"] for f in entry["files"])
        assert lake.row_count(name) == rows, name
    assert not any((demo_settings.data_dir / "quarantine").glob("**/*.csv"))


def test_tampering_is_detected_by_the_cli(demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from typer.testing import CliRunner

    from jinyu.cli import app
    from jinyu.config import get_settings

    monkeypatch.setenv("JINYU_DATA_DIR", str(demo_settings.data_dir))
    get_settings.cache_clear()
    db = sqlite3.connect(demo_settings.data_dir / "jinyu.sqlite3")
    try:
        assert CliRunner().invoke(app, ["audit", "verify"]).exit_code == 0
        db.execute("UPDATE audit_entries SET action = 'party.user.list' WHERE seq = 3")
        db.commit()
        result = CliRunner().invoke(app, ["audit", "verify", "--json"])
        assert result.exit_code == 1 and '"first_bad_seq": 3' in result.output
    finally:
        db.close()
        get_settings.cache_clear()


def _login(client: TestClient, creds: list[dict[str, str]], username: str) -> dict[str, str]:
    cred = next(c for c in creds if c["username"] == username)
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": cred["password"]})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_the_demo_bank_tries_the_shipped_statements_and_a_planted_loan(demo_settings: Settings) -> None:
    """What a new bank user would try first: every shipped statement gets its labelled verdict, a planted
    return-flow loan of its own bank is risky with evidence, and the other bank's user gets 404 for it."""
    import csv

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    region = demo_settings.data_dir / "region"
    with TestClient(create_app(demo_settings)) as client:
        bank = _login(client, creds, "bank_risk")
        with (region / "statements" / "statements_labels.csv").open(encoding="utf-8") as fh:
            labels = list(csv.DictReader(fh))
        for label in labels:
            path = region / "statements" / label["file"]
            resp = client.post(
                "/api/v1/risk/statements/verify",
                headers=bank,
                files={"file": (path.name, path.read_bytes())},
            )
            assert resp.status_code == 200, resp.text
            assert resp.json()["verdict"] == label["expected_verdict"], label["file"]
        with (region / "risk_labels.csv").open(encoding="utf-8") as fh:
            planted = [
                r for r in csv.DictReader(fh) if r["analysis"] == "return_flow" and r["detectable"] == "true"
            ]
        me = client.get("/api/v1/me", headers=bank).json()
        ours = [r for r in planted if r["loan_id"].startswith(me["organisation"]["code"][:5])]
        assert ours, "the demo bank has planted loans"
        loan = ours[0]["loan_id"]
        found = client.get(f"/api/v1/risk/loans/{loan}/return-flow", headers=bank)
        assert found.status_code == 200, found.text
        assert found.json()["verdict"] == "risky" and found.json()["evidence"]
        other = client.get(
            f"/api/v1/risk/loans/{loan}/return-flow", headers=_login(client, creds, "bank2_risk")
        )
        assert other.status_code == 404


def _console(client: TestClient, creds: list[dict[str, str]], username: str) -> None:
    """A fresh browser logs in through the console's form."""
    import re

    client.cookies.clear()
    page = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token is not None
    cred = next(c for c in creds if c["username"] == username)
    done = client.post(
        "/console/login",
        data={"username": username, "password": cred["password"], "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def _table(html: str, table_id: str) -> str:
    """The table with this id, nested tables (a run's findings) included."""
    import re

    start = html.index(f'<table id="{table_id}"')
    depth = 0
    for tag in re.finditer(r"<(/?)table\b", html[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return html[start : start + tag.end()]
    raise AssertionError(f"table {table_id} is not closed")


def test_the_hospital_and_the_insurer_find_the_demo_week_on_the_console(demo_settings: Settings) -> None:
    """`make demo` has the hospital's system settle a week through the API: a new hospital user and the lead
    insurer's user find its settlements, balances, alert and reconciliations on the console. Hand-computed from
    the sample product (70 % above the 20,000 deductible of 40 % of the in-list cost plus the out-of-list cost;
    demo_hospital.WEEK): payouts 0 + 14,700 + 49,000 | 7,000 + 75,600 + 0 | 21,000 + 2,100 + 54,600 | 8,400 + 0 +
    32,900 | 23,800 + 3,500 + 90,300 = 382,900.00, 60 % to the lead (229,740.00 of its 500,000.00: 270,260.00
    left, below its 300,000.00 line) and 40 % to the co-insurer (153,160.00 of 2,000,000.00)."""
    import re

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    with TestClient(create_app(demo_settings)) as client:
        _console(client, creds, "hospital")
        page = client.get("/console/settlements")
        assert page.status_code == 200, page.text
        html = page.text
        listed = _table(html, "settlements")
        assert "结算笔数: 16" in html
        assert listed.count('data-status="settled"') == 15 and listed.count('data-status="cancelled"') == 1
        assert "ZY20250604007 / JS20250604007R" in listed and "已撤销" in listed
        assert "500112********" in listed  # the insured masked, never the whole ID
        books = _table(html, "books")
        assert "¥270,260.00" in books and "¥1,846,840.00" in books  # unused prepaid of the two books
        assert "¥229,740.00" in books and "¥153,160.00" in books  # claims paid
        alerts = _table(html, "alerts")
        assert alerts.count("<tr>") == 2 and "¥270,260.00" in alerts  # the header and the lead's alert
        runs = _table(html, "reconciliations")
        states = re.findall(r'data-run-status="(\w+)"><td>(2025-06-0\d)', runs)
        assert sorted((d, s) for s, d in states) == [
            ("2025-06-02", "matched"),
            ("2025-06-03", "matched"),
            ("2025-06-04", "matched"),
            ("2025-06-05", "corrected"),
            ("2025-06-06", "discrepancies"),
        ]
        mismatch = re.search(r'<tr data-finding="amount_mismatch">(.*?)</tr>', runs)
        assert mismatch and "ZY20250606013" in mismatch.group(1)
        assert "¥23,800.00" in mismatch.group(1) and "¥23,800.50" in mismatch.group(1)
        assert '<tr data-finding="confirmed_pending"><td>ZY20250605010' in runs
        assert "有差异待核实" in runs and "金额不一致" in runs

        _console(client, creds, "insurer")  # the lead insurer: its own book only, and its alert
        html = client.get("/console/settlements").text
        books = _table(html, "books")
        assert books.count("<tr>") == 2 and "¥270,260.00" in books and "¥1,846,840.00" not in books
        assert "¥270,260.00" in _table(html, "alerts")
        assert "结算笔数: 16" in html


def test_the_regulator_reads_a_believable_loss_ratio(demo_settings: Settings) -> None:
    """The demo enrolls its product year's population (`demo_claims.POPULATION`, 11,000 at 69.00 = 759,000.00 of
    premium, 60 % to the lead insurer: 455,400.00, 40 % to the co-insurer: 303,600.00): the week's 382,900.00
    paid (229,740.00 and 153,160.00, as the test above computes) reads 382,900 / 759,000 = 0.504479 -> 50.45 %,
    and each insurer the same (229,740 / 455,400 = 153,160 / 303,600 = 0.504479) — not 24,127 % (23 residents)."""
    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    with TestClient(create_app(demo_settings)) as client:
        _console(client, creds, "analyst")
        html = client.get("/console/claims?by=insurer").text
        assert "¥382,900.00" in html  # the total paid (the page shows premiums per insurer)
        assert "¥455,400.00" in html and "¥303,600.00" in html
        assert html.count("50.45%") == 3, html  # the total's tile and both insurers' rows
        assert "50.45%" in client.get("/console").text  # the overview's tile


def _banks_of_accounts(region: object, owner: str) -> set[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(f"{region}/accounts.parquet", columns=["owner_id", "bank_code"]).to_pylist()
    return {r["bank_code"] for r in table if r["owner_id"] == owner}


def test_the_enterprise_picks_a_bank_grouped_with_its_own_banks_first(demo_settings: Settings) -> None:
    """The consent form lists every bank organisation of the region once, grouped by bank (head office first),
    the banks holding the enterprise's accounts (the region's accounts file) first; `bank_q` narrows it
    without JavaScript, and a branch found so grants its bank."""
    import csv
    import re

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    region = demo_settings.data_dir / "region"
    with (region / "banks.csv").open(encoding="utf-8") as fh:
        banks = {r["org_code"]: r for r in csv.DictReader(fh)}

    def head_of(code: str) -> str:
        while banks[code]["parent_code"]:
            code = banks[code]["parent_code"]
        return code

    me = next(c for c in creds if c["username"] == "enterprise")
    with TestClient(create_app(demo_settings)) as client:
        _console(client, creds, "enterprise")
        token = client.post(
            "/api/v1/auth/token", data={"username": "enterprise", "password": me["password"]}
        ).json()["access_token"]
        uscc = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["organisation"][
            "code"
        ]
        own_heads = {banks[head_of(c)]["name"] for c in _banks_of_accounts(region, uscc)}
        assert own_heads, "the demo enterprise has accounts"
        html = client.get("/console/consents").text
        groups = re.findall(r'<optgroup label="([^"]+)" data-own="(true|false)">(.*?)</optgroup>', html)
        options = re.findall(r'<option value="[^"]+" data-level="(\d)"[^>]*>([^<]+)</option>', html)
        assert len(options) == len(banks) == 65
        heads = [banks[c]["name"] for c in banks if not banks[c]["parent_code"]]
        assert len(groups) == len(heads)
        mine = [g for g in groups if g[1] == "true"]
        assert {label.split(" · ")[0] for label, _, _ in mine} == own_heads
        assert groups[: len(mine)] == mine  # own banks first
        others = [label for label, own, _ in groups if own == "false"]
        assert others == sorted(others)
        for label, _, body in groups:  # each group: its head office first, then the bank's own branches
            first = re.search(r'data-level="(\d)"[^>]*>([^<]+)<', body)
            assert first and first.group(1) == "0" and first.group(2) == label.split(" · ")[0]

        found = client.get("/console/consents", params={"bank_q": "渝北"}).text
        picked = re.findall(r'<option value="([^"]+)" data-level="([12])"[^>]*>\u3000+([^<]+)<', found)
        assert picked and all("渝北" in name for _, _, name in picked)
        branch_id, _, branch_name = picked[0]
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', found)
        assert token is not None
        done = client.post(
            "/console/consents",
            data={
                "csrf_token": token.group(1),
                "grantee_org_id": branch_id,
                "scopes": ["tax"],
                "purpose": "credit_assessment",
                "valid_until": _in_days(30)[:10],
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        # the grant goes to the whole bank (consent.grant: the bank's tenant): its head office is named
        bank = banks[head_of(next(c for c in banks if banks[c]["name"] == branch_name))]["name"]
        newest = _table(client.get("/console/consents").text, "grants").split("<tr data-grant=")[1]
        assert bank in newest and "纳税" in newest and branch_name not in newest


def test_the_demo_hospital_settles_replays_cancels_and_settles_again(demo_settings: Settings) -> None:
    """What a hospital system would try first with the shipped discharges: the ledger and accumulators agree."""
    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    key = {"X-API-Key": next(c["password"] for c in creds if c["username"] == "svc:his")}
    body = json.loads((demo_settings.data_dir / "claims" / "discharge-2-crossing.json").read_text())
    with TestClient(create_app(demo_settings)) as client:
        first = client.post("/api/v1/claims/settlements", headers=key, json=body)
        assert first.status_code == 201, first.text
        settled = first.json()
        assert settled["status"] == "settled" and settled["payout"] == "4480.00"
        replay = client.post("/api/v1/claims/settlements", headers=key, json=body)
        assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == settled["id"]
        cancel = client.post(
            f"/api/v1/claims/settlements/{settled['id']}/cancel",
            headers=key,
            json={"msg_id": "DEMO-CANCEL-1", "reason": "病案首页更正 / corrected record"},
        )
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["status"] == "cancelled"
        again = {
            **body,
            "msg_id": "DEMO-0002-R",
            "setlinfo": {**body["setlinfo"], "setl_id": "DEMO-S000002R"},
        }
        second = client.post("/api/v1/claims/settlements", headers=key, json=again)
        assert second.status_code == 201, second.text
        assert second.json()["payout"] == settled["payout"]  # the deductible given back exactly
        # the sample's format-2 rules: a special drug bought at designated pharmacy PH0001 (med_type 41) is
        # paid at 70 % without deductible (17,900 → 12,530.00); an outpatient visit (11) is not inpatient
        claims = demo_settings.data_dir / "claims"
        pharmacy = json.loads((claims / "visit-4-pharmacy.json").read_text())
        bought = client.post("/api/v1/claims/settlements", headers=key, json=pharmacy)
        assert (bought.status_code, bought.json()["payout"]) == (201, "12530.00"), bought.text
        outpatient = json.loads((claims / "visit-5-outpatient.json").read_text())
        visit = client.post("/api/v1/claims/settlements", headers=key, json=outpatient)
        assert (visit.status_code, visit.json()["payout"]) == (201, "0.00"), visit.text
        assert [li["code"] for li in visit.json()["outcome"]["liabilities"]] == ["special_drug"]


def test_the_demo_bank_sees_full_cards_and_a_new_enterprise_can_share_two_sections(
    demo_settings: Settings,
) -> None:
    """`make demo` shows a full card at once; the demo enterprise, tried as a new user, registers (its legal
    representative matches the registry), grants two sections, and the bank sees those two only."""
    import csv

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    region = demo_settings.data_dir / "region"
    with (region / "statements" / "statements_labels.csv").open(encoding="utf-8") as fh:
        shared = sorted({r["enterprise_uscc"] for r in csv.DictReader(fh)})
    with TestClient(create_app(demo_settings)) as client:
        bank, bank2 = _login(client, creds, "bank_risk"), _login(client, creds, "bank2_risk")
        ent = _login(client, creds, "enterprise")
        me = client.get("/api/v1/me", headers=ent).json()["organisation"]
        full = [u for u in shared if u != me["code"]]
        card = client.get(f"/api/v1/credit/cards/{full[0]}", headers=bank)
        assert card.status_code == 200, card.text
        assert list(card.json()["sections"]) == [
            "registration",
            "tax",
            "headcount",
            "ip",
            "judicial",
            "penalties",
        ]
        assert card.json()["sections"]["tax"]["status"] == "ok"
        assert client.get(f"/api/v1/credit/cards/{full[0]}", headers=bank2).status_code == 404
        # The demo enterprise as a new user: register with the registry's legal representative, grant two.
        with (region / "enterprises.csv").open(encoding="utf-8") as fh:
            row = next(r for r in csv.DictReader(fh) if r["uscc"] == me["code"])
        reg = client.post(
            "/api/v1/registrations",
            headers=ent,
            json={"legal_rep_id": row["legal_rep_id"], "legal_rep_name": row["legal_rep_name"]},
        )
        assert reg.status_code == 201 and reg.json()["state"] == "verified", reg.text
        bank_org = client.get("/api/v1/me", headers=bank).json()["organisation"]["id"]
        grant = client.post(
            "/api/v1/consents",
            headers=ent,
            json={"grantee_org_id": bank_org, "scopes": ["tax", "ip"], "purpose": "credit_assessment",
                  "valid_until": _in_days(30)},
        )  # fmt: skip
        assert grant.status_code == 201, grant.text
        seen = client.get(f"/api/v1/credit/cards/{me['code']}", headers=bank)
        assert seen.status_code == 200 and list(seen.json()["sections"]) == ["tax", "ip"]
        assert seen.json()["withheld"] == ["tax"]  # level 5: no supervisor's approval on this new grant
        views = client.get(f"/api/v1/credit/cards/{me['code']}/views", headers=ent).json()["items"]
        assert [v["basis"] for v in views] == ["grant"]


def _in_days(days: int) -> str:
    import datetime as dt

    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


def test_the_demo_says_who_can_trace_each_planted_loan(demo_settings: Settings) -> None:
    """The table `jinyu demo` prints agrees with the API: a loan listed for a user is traced for them, and the
    other bank's user (not listed) gets 404 for it."""
    from jinyu.demo_loans import planted_loans

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    loans = planted_loans(demo_settings, [(c["username"], c["role"], c["org_id"]) for c in creds])
    assert loans and all(set(p.users) <= {"bank_risk", "bank_officer", "bank2_risk"} for p in loans)
    second_bank = next(p for p in loans if p.analysis == "return_flow" and "bank2_risk" in p.users)
    assert "bank_risk" not in second_bank.users
    with TestClient(create_app(demo_settings)) as client:
        url = f"/api/v1/risk/loans/{second_bank.loan_id}/return-flow"
        assert client.get(url, headers=_login(client, creds, "bank2_risk")).status_code == 200
        assert client.get(url, headers=_login(client, creds, "bank_risk")).status_code == 404


def test_the_demo_bank_verifies_a_statement_in_the_console(demo_settings: Settings) -> None:
    """The console's upload gives the labelled verdict of a shipped statement, with the flagged lines."""
    import csv
    import re

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    region = demo_settings.data_dir / "region" / "statements"
    with (region / "statements_labels.csv").open(encoding="utf-8") as fh:
        label = next(r for r in csv.DictReader(fh) if r["expected_verdict"] != "genuine")
    cred = next(c for c in creds if c["username"] == "bank_risk")
    with TestClient(create_app(demo_settings)) as client:
        page = client.get("/console/login").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert token is not None
        client.post(
            "/console/login",
            data={"username": "bank_risk", "password": cred["password"], "csrf_token": token.group(1)},
        )
        form = client.get("/console/statements").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form)
        assert token is not None
        path = region / label["file"]
        resp = client.post(
            "/console/statements",
            data={"csrf_token": token.group(1)},
            files={"file": (path.name, path.read_bytes(), "text/csv")},
        )
        api = client.post(
            "/api/v1/risk/statements/verify",
            headers=_login(client, creds, "bank_risk"),
            files={"file": (path.name, path.read_bytes())},
        ).json()
    assert resp.status_code == 200, resp.text
    assert api["verdict"] == label["expected_verdict"]
    assert api["verdict_label"].split(" / ")[0] in resp.text  # the same verdict, in Chinese
    counts = api["counts"]
    assert f"{counts['fabricated']} / {counts['hidden']} / {counts['altered']}" in resp.text


def test_the_demo_runs_a_financing_demand_from_posting_to_the_regulator(demo_settings: Settings) -> None:
    """The whole financing flow with the demo's own users: the enterprise posts a demand naming the demo bank,
    bank_risk assigns it to mgr_bank's outlet and to mgr_bank, who accepts, contacts, reviews and approves;
    the consultant of the enterprise and the regulator read it, the other bank's manager gets 404, and the
    regulator's indicators count it for the demo bank."""
    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    with TestClient(create_app(demo_settings)) as client:
        ent, bank = _login(client, creds, "enterprise"), _login(client, creds, "bank_risk")
        mgr = _login(client, creds, "mgr_bank")
        bank_id = client.get("/api/v1/me", headers=bank).json()["organisation"]["id"]
        demand = {"amount": "3000000.00", "term_months": 12, "purpose": "采购原材料 / buying materials",
                  "security": "credit", "preferred_bank_ids": [bank_id]}  # fmt: skip
        posted = client.post("/api/v1/financing/demands", headers=ent, json=demand)
        assert posted.status_code == 201, posted.text
        order = posted.json()["order"]
        assert (order["state"], order["bank_id"], order["route_rule"]) == ("dispatched", bank_id, "preferred")
        me = client.get("/api/v1/me", headers=mgr).json()
        url = f"/api/v1/financing/orders/{order['id']}"
        assigned = client.post(
            f"{url}/assignment",
            headers=bank,
            json={"outlet_id": me["organisation"]["id"], "manager_id": me["user"]["id"]},
        )
        assert assigned.status_code == 200, assigned.text
        for step in ({"action": "accept"}, {"action": "contact"}, {"action": "review"},
                     {"action": "approve", "amount_approved": "2500000.00"}):  # fmt: skip
            done = client.post(f"{url}/transitions", headers=mgr, json=step)
            assert done.status_code == 200, (step, done.text)
        assert done.json()["state"] == "approved"
        analyst = _login(client, creds, "analyst")
        seen = client.get(url, headers=analyst)
        assert seen.status_code == 200, seen.text
        assert [e["action"] for e in seen.json()["events"]] == [
            "dispatch", "assign", "accept", "contact", "review", "approve"
        ]  # fmt: skip
        assert client.get(url, headers=_login(client, creds, "consultant")).status_code == 200
        assert client.get(url, headers=_login(client, creds, "mgr_bank2")).status_code == 404
        table = client.get("/api/v1/financing/indicators?group_by=bank&sort=key", headers=analyst).json()[
            "rows"
        ]
        row = next(r for r in table if r["key"] == bank_id)
        assert row["orders"] >= 1 and row["approved"] >= 1 and row["contacted"] >= 1
        chiefs = client.get("/api/v1/financing/chain-chiefs", headers=analyst).json()
        assert {c["chain_code"] for c in chiefs} >= {"new_display"}


def test_each_page_the_demo_names_opens_for_its_user(demo_settings: Settings) -> None:
    """The "who sees what" table `jinyu demo` prints: each user's page answers 200 for that user on the console,
    and the table names only demo users."""
    from jinyu.demo import CONSOLE_WALK

    creds = json.loads((demo_settings.data_dir / "credentials.json").read_text())
    assert {user for user, _, _ in CONSOLE_WALK} <= {c["username"] for c in creds}
    with TestClient(create_app(demo_settings)) as client:
        for user, path, _ in CONSOLE_WALK:
            _console(client, creds, user)
            page = client.get(path, follow_redirects=False)
            assert page.status_code == 200, (user, path, page.status_code)
