"""The charts' data as the pages carry it to ECharts, and the tables that stand in for them without JavaScript."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jinyu.risk.tracing.schemas import EvidencePath, EvidenceStep
from jinyu.web.charts import Bar, Series, bar_chart, line_chart, path_graph
from jinyu.web.i18n import yuan
from tests.web.console import charts_of

AT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_bar_chart_carries_formatted_figures_and_a_table() -> None:
    html = str(bar_chart("按银行", [Bar("银行甲", Decimal("1234567.805")), Bar("B", Decimal(0))], yuan))
    (data,) = charts_of(html)
    assert data == {
        "type": "bar",
        "labels": ["银行甲", "B"],
        "values": [1234567.805, 0.0],
        "texts": ["¥1,234,567.81", "¥0.00"],
        "title": "按银行",
    }
    assert '<td class="">银行甲</td><td class="num">¥1,234,567.81</td>' in html
    assert str(bar_chart("empty", [], yuan)) == ""


def test_data_cannot_close_its_script_element() -> None:
    html = str(bar_chart("</script><script>alert(1)</script>", [Bar("<b>&", Decimal(1))], yuan))
    assert html.count("</script>") == 1  # only the JSON element's own end
    assert "<script>alert" not in html and "&lt;b&gt;&amp;" in html  # the table escapes too
    (data,) = charts_of(html)
    assert data["title"] == "</script><script>alert(1)</script>" and data["labels"] == ["<b>&"]


def test_line_chart_leaves_a_missing_month_as_a_gap() -> None:
    series = [
        Series("a", {"2026-01": Decimal(1), "2026-03": Decimal(3)}),
        Series("b", {"2026-02": Decimal(2)}),
    ]
    html = str(line_chart("趋势", series, str, log=True))
    (data,) = charts_of(html)
    assert data["x"] == ["2026-01", "2026-02", "2026-03"] and data["log"] is True
    assert [s["values"] for s in data["series"]] == [[1.0, None, 3.0], [None, 2.0, None]]
    assert '<tr><td class="">2026-02</td><td class="num">—</td><td class="num">2</td></tr>' in html


def _step(hop: int, account: str, party: str, amount: str, owner: str | None = None) -> EvidenceStep:
    return EvidenceStep(
        hop=hop,
        account=account,
        party=party,
        owner_name=owner,
        category=None,
        category_label=None,  # type: ignore[arg-type]
        amount=Decimal(amount),
        first_at=AT,
    )


def test_path_graph_draws_each_account_once_and_each_hop_as_an_edge() -> None:
    own, tok1, tok2 = "6222000011112222", "tok_a1b2", "tok_c3d4"
    p1 = EvidencePath(
        kind="related",
        label="",
        amount=Decimal(700),
        share=Decimal("0.7"),
        hops=2,
        days=Decimal(3),
        steps=[
            _step(0, own, "borrower", "1000"),
            _step(1, tok1, "outside", "900"),
            _step(2, tok2, "related", "700"),
        ],
    )
    p2 = EvidencePath(
        kind="borrower",
        label="",
        amount=Decimal(200),
        share=Decimal("0.2"),
        hops=2,
        days=Decimal(5),
        steps=[
            _step(0, own, "borrower", "1000"),
            _step(1, tok1, "outside", "900"),
            _step(2, own, "borrower", "200"),
        ],
    )
    (data,) = charts_of(str(path_graph("路径", [p1, p2], yuan, ("自", "至", "金额"))))
    assert [n["account"] for n in data["nodes"]] == [own, tok1, tok2]
    assert [n["party"] for n in data["nodes"]] == ["borrower", "outside", "related"]
    account = {n["id"]: n["account"] for n in data["nodes"]}
    edges = {(account[e["source"]], account[e["target"]]): e["text"] for e in data["links"]}
    assert edges == {(own, tok1): "¥900.00", (tok1, tok2): "¥700.00", (tok1, own): "¥200.00"}
    assert str(path_graph("路径", [], yuan, ("自", "至", "金额"))) == ""


def test_two_related_accounts_masked_alike_stay_two_nodes() -> None:
    """Short accounts mask to `****` whoever owns them: the legal representative's and the sister company's
    accounts are two nodes (and two rows naming their owners), not one node receiving both amounts."""
    own = "6001"

    def path(amount: str, owner: str) -> EvidencePath:
        steps = [_step(0, own, "borrower", "1000", "借款人"), _step(1, "****", "related", amount, owner)]
        return EvidencePath(
            kind="related", label="", amount=Decimal(amount), share=Decimal("0.1"), hops=1, days=Decimal(1),
            steps=steps,
        )  # fmt: skip

    html = str(path_graph("路径", [path("200", "张*"), path("20", "重庆姊妹"), path("200", "张*")], yuan,
                          ("自", "至", "金额")))  # fmt: skip
    (data,) = charts_of(html)
    assert [n["shown"] for n in data["nodes"]] == ["6001 · 借款人", "**** · 张*", "**** · 重庆姊妹"]
    assert sorted(e["text"] for e in data["links"]) == ["¥20.00", "¥200.00"]
    assert (
        '<td class="">6001 · 借款人</td><td class="">**** · 重庆姊妹</td><td class="num">¥20.00</td>' in html
    )
