"""The regulator's later-scenario pages on small hand-made data: a chain's flows, core enterprises, loans and a
contagion case (figures worked out by hand in tests/chain/test_api.py), the governance trend and remediation
items, prepaid balances by insurer; bad input answers 422 pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.governance import service as governance
from tests.chain.lake import U, rows, write
from tests.claim.factories import world
from tests.fixtures.auth import make_org, make_user
from tests.governance.test_service import _enterprises
from tests.web.console import charts_of, console_login


def _analyst(session: Session) -> str:
    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST).username
    session.commit()
    return user


def test_chain_page_shows_flows_core_loans_and_contagion(
    client: TestClient, session: Session, settings: Settings
) -> None:
    analyst = _analyst(session)
    console_login(client, analyst)
    empty = client.get("/console/chains")  # nothing loaded yet: a page that says so, not an error
    assert empty.status_code == 200 and "请先导入" in empty.text
    write(Lake(settings.lake_dir), rows())
    window = {"code": "new_display", "from_month": "2024-01", "to_month": "2024-03", "failing": U["c"]}
    page = client.get("/console/chains", params=window)
    assert page.status_code == 200, page.text
    flows = page.text.split('id="segment-flows"')[1].split("</table>")[0]
    assert '<td>2024-03</td><td>panels</td><td>materials</td><td class="num">2</td>' in flows
    assert "¥1,000,000.00" in flows
    core = page.text.split('id="core-enterprises"')[1].split("</table>")[0]
    assert "¥1,016,384.00" in core  # 600,000 + 400,000 + 50,000 × 0.8^5
    assert 'id="contagion-loss">¥1,200,000.00<' in page.text  # m1 600,000 + m2 400,000 + x 200,000
    (net,) = charts_of(page.text)  # net inflow per segment, a line each, drawn by ECharts from this data
    assert net["type"] == "line" and net["series"] and "2024-03" in net["x"]
    backwards = client.get("/console/chains", params={**window, "to_month": "2023-12"})
    assert backwards.status_code == 422 and "to_month" in backwards.text
    assert client.get("/console/chains", params={**window, "from_month": "2024-13"}).status_code == 422


def test_governance_page_shows_trend_and_items(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    _enterprises(lake)  # four enterprises, one with an industry code outside the list
    engine = DuckDBEngine(lake.root)
    try:
        for day in (dt.date(2026, 11, 30), dt.date(2026, 12, 6)):
            governance.check(session, SYSTEM, engine, lake, "enterprises", as_of=day)
    finally:
        engine.close()
    analyst = _analyst(session)
    console_login(client, analyst)
    page = client.get("/console/governance")
    assert page.status_code == 200, page.text
    (trend,) = charts_of(page.text)
    assert (
        trend["type"] == "line" and trend["log"] and len(trend["series"]) == 1 and "BUREAU-SAMR" in page.text
    )
    items = page.text.split('id="remediation"')[1].split("</table>")[0]
    assert "enterprises.industry_code.code_list" in items and 'data-status="open"' in items
    assert (
        "市场监督管理局" in items and trend["series"][0]["name"] == "市场监督管理局"
    )  # named, not only coded


def test_prepaid_balances_by_insurer(client: TestClient, session: Session) -> None:
    claims = world(session, deposit="2500000.00")
    analyst = _analyst(session)
    console_login(client, analyst)
    overview = client.get("/console")
    assert 'data-tile="prepaid_total"' in overview.text and "¥2,500,000.00" in overview.text
    page = client.get("/console/claims")
    prepaid = page.text.split('id="prepaid"')[1].split("</table>")[0]
    assert claims.insurer.name in prepaid and "¥2,500,000.00" in prepaid
