"""Rendering a presented statement as CSV (docs/statement-verification.md) or ISO 20022 camt.053.001.08."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from xml.etree import ElementTree as ET

from jinyu.synth.statements.model import SH, Line, Presented, running

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def printed_balances(s: Presented) -> tuple[list[Decimal], Decimal]:
    balances = running(s.opening, s.lines)
    printed = [b + x.balance_offset for b, x in zip(balances, s.lines, strict=True)]
    return printed, (balances[-1] if balances else s.opening) + s.closing_offset


def render_csv(s: Presented) -> bytes:
    printed, closing = printed_balances(s)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for key, value in (
        ("account", s.account_no), ("account_name", s.account_name), ("currency", "CNY"),
        ("period_start", s.start), ("period_end", s.end), ("opening_balance", s.opening),
        ("closing_balance", closing),
    ):  # fmt: skip
        w.writerow([key, value])
    w.writerow([])
    w.writerow(
        [
            "date",
            "time",
            "counterparty_account",
            "counterparty_name",
            "amount",
            "balance",
            "reference",
            "memo",
        ]
    )
    for x, balance in zip(s.lines, printed, strict=True):
        at = x.time.isoformat() if x.time else ""
        w.writerow(
            [
                x.booked_on,
                at,
                x.counterparty_account,
                x.counterparty_name,
                x.amount,
                balance,
                x.reference,
                x.memo,
            ]
        )
    return buf.getvalue().encode("utf-8")


def _el(parent: ET.Element, path: str, text: object = None, **attrs: str) -> ET.Element:
    node = parent
    for tag in path.split("/"):
        node = ET.SubElement(node, f"{{{CAMT_NS}}}{tag}")
    node.attrib.update(attrs)
    if text is not None:
        node.text = str(text)
    return node


def _balance(stmt: ET.Element, code: str, amount: Decimal, day: dt.date) -> None:
    bal = _el(stmt, "Bal")
    _el(bal, "Tp/CdOrPrtry/Cd", code)
    _el(bal, "Amt", abs(amount), Ccy="CNY")
    _el(bal, "CdtDbtInd", "DBIT" if amount < 0 else "CRDT")
    _el(bal, "Dt/Dt", day.isoformat())


def _entry(stmt: ET.Element, x: Line) -> None:
    ntry = _el(stmt, "Ntry")
    _el(ntry, "Amt", abs(x.amount), Ccy="CNY")
    debit = x.amount < 0
    _el(ntry, "CdtDbtInd", "DBIT" if debit else "CRDT")
    _el(ntry, "Sts/Cd", "BOOK")
    if x.time is None:
        _el(ntry, "BookgDt/Dt", x.booked_on.isoformat())
    else:
        _el(ntry, "BookgDt/DtTm", dt.datetime.combine(x.booked_on, x.time, SH).isoformat())
    _el(ntry, "ValDt/Dt", x.booked_on.isoformat())
    if x.reference:
        _el(ntry, "AcctSvcrRef", x.reference)
    if not x.counterparty_account:
        _el(ntry, "AddtlNtryInf", x.memo or "批量")
        return
    tx = _el(ntry, "NtryDtls/TxDtls")
    party, account = ("Cdtr", "CdtrAcct") if debit else ("Dbtr", "DbtrAcct")
    parties = _el(tx, "RltdPties")
    _el(parties, f"{party}/Pty/Nm", x.counterparty_name)
    _el(parties, f"{account}/Id/Othr/Id", x.counterparty_account)
    if x.memo:
        _el(tx, "RmtInf/Ustrd", x.memo)


def render_camt053(s: Presented, msg_id: str) -> bytes:
    root = ET.Element(f"{{{CAMT_NS}}}Document")
    body = _el(root, "BkToCstmrStmt")
    created = dt.datetime.combine(s.end + dt.timedelta(days=1), dt.time(8), SH).isoformat()
    header = _el(body, "GrpHdr")
    _el(header, "MsgId", msg_id)
    _el(header, "CreDtTm", created)
    stmt = _el(body, "Stmt")
    _el(stmt, "Id", msg_id)
    _el(stmt, "CreDtTm", created)
    span = _el(stmt, "FrToDt")
    _el(span, "FrDtTm", dt.datetime.combine(s.start, dt.time(0), SH).isoformat())
    _el(span, "ToDtTm", dt.datetime.combine(s.end, dt.time(23, 59, 59), SH).isoformat())
    acct = _el(stmt, "Acct")
    _el(acct, "Id/Othr/Id", s.account_no)
    _el(acct, "Ccy", "CNY")
    _el(acct, "Nm", s.account_name)
    _, closing = printed_balances(s)
    _balance(stmt, "OPBD", s.opening, s.start)
    _balance(stmt, "CLBD", closing, s.end)
    for x in s.lines:
        _entry(stmt, x)
    ET.register_namespace("", CAMT_NS)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
