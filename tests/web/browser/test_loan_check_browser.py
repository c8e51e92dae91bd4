"""The bank's loan check in a real browser: the return flow and the misuse of loan L1 of the golden tracing region
(tests/risk/tracing/lake.py; figures pinned in tests/risk/tracing/test_golden.py), with the money's path drawn
by ECharts as a graph — and the same page with JavaScript off, where the path is a table.

L1 lends ¥1,000,000.00 into the borrower's account 6001; pro rata, ¥295,000.00 comes back to the borrower's side:
¥200,000.00 straight to the legal representative's account (6003), ¥75,000.00 through an unrelated person's
account (6006) to it, and ¥20,000.00 through the borrower's own general account (6002) to the sister company
(6004). The representative and the sister are related parties (masked accounts); the unrelated person is an
outsider (a pseudonymous token)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.browser.conftest import Live
from tests.web.browser.test_console_browser import log_in

pytestmark = pytest.mark.browser


def _check(page: Any, loan_id: str, kind: str) -> None:
    page.click("nav.menu >> text=贷款资金核查")
    page.fill("#loan_id", loan_id)
    page.select_option("#check_kind", kind)
    page.click("#check")


def _graph_data(page: Any, section: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.inner_text(f"{section} figure.chart-box script.chart-data"))
    return data


def test_bank_sees_the_return_flow_as_a_graph_of_the_money_path(page: Any, live: Live) -> None:
    log_in(page, live.users["bank"])
    _check(page, "L1", "return_flow")
    assert page.inner_text("#loan-verdict") == "结论: 风险"
    tiles = page.inner_text("#loan-result .tiles")
    assert "¥295,000.00" in tiles and "¥1,000,000.00" in tiles and "29.50%" in tiles
    # ECharts (served by the app) drew the graph: a canvas in the figure's container; its table folded away
    page.wait_for_selector("#loan-result figure.chart-box.drawn .echart canvas")
    assert page.locator("#loan-result details.chart-table[open]").count() == 0
    data = _graph_data(page, "#loan-result")
    drawn = page.evaluate(
        """() => {
            const holder = document.querySelector('#loan-result figure.chart-box .echart');
            const series = window.echarts.getInstanceByDom(holder).getOption().series[0];
            return {nodes: series.data.map(n => n.id), links: series.links.map(l => [l.source, l.target, l.text])};
        }"""
    )
    # the chart draws exactly the page's data: every account once, every hop once, with its traced amount
    assert sorted(drawn["nodes"]) == sorted(n["id"] for n in data["nodes"])
    assert sorted(drawn["links"]) == sorted([k["source"], k["target"], k["text"]] for k in data["links"])
    hops = {(k["source"], k["target"], k["text"]) for k in data["links"]}  # by node: two related mask alike
    parties = {n["account"]: n["party"] for n in data["nodes"]}
    # own accounts in full; the related parties' masked; the unrelated person's a pseudonymous token
    assert parties["6001"] == parties["6002"] == "borrower"
    (token,) = [a for a, p in parties.items() if p == "outside"]
    assert token.startswith("pt_") and "6006" not in token
    related = [n for n in data["nodes"] if n["party"] == "related"]
    assert len(related) == 2 and not {n["account"] for n in related} & {"6003", "6004"}
    (sister,) = [n for n in related if n["name"] == "EN0002"]  # the accounts' owner names: their last 6
    (rep,) = [n for n in related if n is not sister]
    node = {n["account"]: n["id"] for n in data["nodes"] if n["party"] != "related"}
    a0, ag, x = node["6001"], node["6002"], node[token]
    assert hops == {
        (a0, rep["id"], "¥200,000.00"),  # straight to the legal representative
        (a0, x, "¥100,000.00"),
        (x, rep["id"], "¥75,000.00"),  # through the unrelated person
        (a0, ag, "¥150,000.00"),
        (ag, sister["id"], "¥20,000.00"),  # through its own account to the sister company
    }
    # the same accounts as the hop-by-hop list below the graph
    listed = set(page.eval_on_selector_all("#loan-result .steps code", "els => els.map(e => e.textContent)"))
    assert listed == set(parties)


def test_bank_sees_misuse_with_its_graph(page: Any, live: Live) -> None:
    log_in(page, live.users["bank"])
    _check(page, "L1", "misuse")
    assert "¥125,000.00" in page.inner_text("#misuse-categories")  # to a real-estate developer
    page.wait_for_selector("#misuse-result figure.chart-box.drawn .echart canvas")
    data = _graph_data(page, "#misuse-result")
    assert data["type"] == "graph" and data["links"] and data["nodes"]


def test_without_javascript_the_path_is_a_table(page_without_js: Any, live: Live) -> None:
    page = page_without_js
    log_in(page, live.users["bank"])
    _check(page, "L1", "return_flow")
    assert "¥295,000.00" in page.inner_text("#loan-result .tiles")
    table = page.locator("#loan-result figure.chart-box details.chart-table table")
    assert table.is_visible()  # the <details> stays open: nothing folds it
    assert page.locator("#loan-result .echart canvas").count() == 0
    rows = [[c.strip() for c in r.split("\t")] for r in table.locator("tbody tr").all_inner_texts()]
    data = _graph_data(page, "#loan-result")
    shown = {n["id"]: n["shown"] for n in data["nodes"]}
    assert sorted(rows) == sorted([shown[k["source"]], shown[k["target"]], k["text"]] for k in data["links"])
    assert len(rows) == 5  # the five hops of the three paths, each account named with its owner
    assert any(
        r[0].startswith("6001 · ") and r[1].startswith("6002 · ") and r[2] == "¥150,000.00" for r in rows
    )
    _check(page, "L1", "misuse")
    assert page.locator("#misuse-result details.chart-table table").is_visible()
