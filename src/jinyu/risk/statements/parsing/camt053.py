"""The supported subset of ISO 20022 camt.053 (bank-to-customer statement), any version 001.02–001.13.

Parsed by `xml_safe` (no DTDs, hence no entities or external references). One `BkToCstmrStmt/Stmt` per document:
- `Stmt/Acct/Id/Othr/Id` (or `IBAN`) is the account, `Stmt/Acct/Ccy` its currency, `Acct/Nm`/`Ownr/Nm` its name;
- `Stmt/Bal` with `Tp/CdOrPrtry/Cd` `OPBD` and `CLBD`: `Amt` (with `Ccy`), `CdtDbtInd`, `Dt/Dt`;
- the period is `Stmt/FrToDt` (`FrDtTm`, `ToDtTm`), else the OPBD and CLBD dates;
- each booked `Ntry` is one line: `Amt` + `@Ccy`, `CdtDbtInd` (CRDT in, DBIT out), `BookgDt/Dt` or `DtTm`,
  `AcctSvcrRef` (the reference, also read from `NtryDtls/TxDtls/Refs`), the counterparty from
  `NtryDtls/TxDtls/RltdPties` (the creditor of a debit, the debtor of a credit; `Nm` or `Pty/Nm`, account
  `Id/Othr/Id` or `Id/IBAN`), the memo from `RmtInf/Ustrd` or `AddtlNtryInf`.
Entries with a status other than BOOK are skipped. Errors name the element (`Stmt/Ntry[3]/Amt/@Ccy`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar
from xml.etree.ElementTree import Element

from jinyu.risk.statements.parsing import values
from jinyu.risk.statements.parsing.camt_entries import EntryReader, date_time
from jinyu.risk.statements.parsing.values import Bad, Problems
from jinyu.risk.statements.parsing.xml_safe import parse_untrusted
from jinyu.risk.statements.rules import Statement, StatementLine

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
T = TypeVar("T")


def parse_camt053(data: bytes) -> Statement:
    problems = Problems()
    root = _root(data, problems)
    doc = _Doc(root, problems)
    statement = doc.statement()
    problems.raise_if_any()
    assert statement is not None
    return statement


def _root(data: bytes, problems: Problems) -> Element:
    root = parse_untrusted(data, problems)
    problems.raise_if_any()
    assert root is not None
    return root


class _Doc:
    def __init__(self, root: Element, problems: Problems) -> None:
        self.problems = problems
        ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
        if not ns.startswith(NAMESPACE_PREFIX) or root.tag != f"{{{ns}}}Document":
            problems.add("Document", f"不是 camt.053 文档 / not a camt.053 document: {root.tag}")
            problems.raise_if_any()
        self.ns = ns
        self.root = root
        self._names: dict[str, str] = {}

    # -- element helpers ----------------------------------------------------------------------------

    def q(self, tag: str) -> str:
        name = self._names.get(tag)
        if name is None:
            name = self._names[tag] = f"{{{self.ns}}}{tag}"
        return name

    def find(self, node: Element | None, *tags: str) -> Element | None:
        """The first child, grandchild ... along `tags` (a plain walk: ElementPath costs more per call)."""
        for tag in tags:
            if node is None:
                return None
            name = self.q(tag)
            node = next((child for child in node if child.tag == name), None)
        return node

    def findall(self, node: Element | None, *tags: str) -> list[Element]:
        level = [node] if node is not None else []
        for tag in tags:
            name = self.q(tag)
            level = [child for parent in level for child in parent if child.tag == name]
        return level

    def text(self, node: Element, *tags: str) -> str | None:
        found = self.find(node, *tags)
        text = found.text.strip() if found is not None and found.text else ""
        return text or None

    def read(self, node: Element, where: str, tags: tuple[str, ...], parse: Callable[[str], T]) -> T | None:
        raw = self.text(node, *tags)
        if raw is None:
            self.problems.add(f"{where}/{'/'.join(tags)}", "缺少元素 / missing element")
            return None
        try:
            return parse(raw)
        except Bad as exc:
            self.problems.add(f"{where}/{'/'.join(tags)}", str(exc))
            return None

    # -- the statement ------------------------------------------------------------------------------

    def statement(self) -> Statement | None:
        body = self.find(self.root, "BkToCstmrStmt")
        stmts = self.findall(body, "Stmt")
        if len(stmts) != 1:
            self.problems.add(
                "BkToCstmrStmt/Stmt", f"须有且只有一个 Stmt（实有 {len(stmts)}）/ exactly one Stmt"
            )
            return None
        stmt = stmts[0]
        account = self.text(stmt, "Acct", "Id", "Othr", "Id") or self.text(stmt, "Acct", "Id", "IBAN")
        if account is None:
            self.problems.add(
                "Stmt/Acct/Id", "缺少账号（Othr/Id 或 IBAN）/ missing account (Othr/Id or IBAN)"
            )
        currency = (
            self.read(stmt, "Stmt", ("Acct", "Ccy"), values.currency)
            if self.find(stmt, "Acct", "Ccy") is not None
            else None
        )
        opening, start = self.balance(stmt, "OPBD", currency)
        closing, end = self.balance(stmt, "CLBD", currency)
        start, end = self.period(stmt, start, end)
        source = "Stmt/Acct/Ccy" if currency else "Stmt/Bal/Amt/@Ccy"
        currency = currency or self.balance_currency(stmt)
        if currency is None:
            self.problems.add("Stmt/Acct/Ccy", "缺少币种 / no currency (Acct/Ccy or Bal/Amt/@Ccy)")
        lines = self.entries(stmt, currency)
        if (
            account is None
            or currency is None
            or start is None
            or end is None
            or opening is None
            or closing is None
        ):
            return None
        for line in lines:
            if not start <= line.booked_on <= end:
                self.problems.add(
                    f"{line.source}/BookgDt", f"日期不在对账期间 {start}–{end} 内 / date outside the period"
                )
        name = self.text(stmt, "Acct", "Nm") or self.text(stmt, "Acct", "Ownr", "Nm")
        return Statement(
            "camt053",
            account.replace(" ", ""),
            currency,
            start,
            end,
            opening,
            closing,
            tuple(lines),
            name,
            source,
        )

    def balance_currency(self, stmt: Element) -> str | None:
        for bal in self.findall(stmt, "Bal"):
            amt = self.find(bal, "Amt")
            if amt is not None and amt.get("Ccy"):
                return str(amt.get("Ccy")).upper()
        return None

    def balance(
        self, stmt: Element, code: str, currency: str | None
    ) -> tuple[Decimal | None, dt.date | None]:
        where = f"Stmt/Bal[{code}]"
        found = [b for b in self.findall(stmt, "Bal") if self.text(b, "Tp", "CdOrPrtry", "Cd") == code]
        if len(found) != 1:
            self.problems.add(
                where, f"须有且只有一个 {code} 余额（实有 {len(found)}）/ exactly one {code} balance"
            )
            return None, None
        bal = found[0]
        amount = self.read(bal, where, ("Amt",), values.amount)
        self.check_currency(bal, where, currency)
        indicator = self.indicator(bal, where)
        when = self.text(bal, "Dt", "Dt") or self.text(bal, "Dt", "DtTm")
        day = self.day(when, f"{where}/Dt") if when else None
        if amount is None or indicator is None:
            return None, day
        return (-amount if indicator == "DBIT" else amount), day

    def period(
        self, stmt: Element, start: dt.date | None, end: dt.date | None
    ) -> tuple[dt.date | None, dt.date | None]:
        span = self.find(stmt, "FrToDt")
        if span is not None:
            first, last = self.text(span, "FrDtTm"), self.text(span, "ToDtTm")
            start = self.day(first, "Stmt/FrToDt/FrDtTm") if first else None
            end = self.day(last, "Stmt/FrToDt/ToDtTm") if last else None
        if start is None or end is None:
            self.problems.add(
                "Stmt/FrToDt", "无法确定对账期间 / no statement period (FrToDt, or OPBD and CLBD dates)"
            )
        elif start > end:
            self.problems.add("Stmt/FrToDt", "截止早于起始 / period ends before it starts")
        return start, end

    def day(self, raw: str, where: str) -> dt.date | None:
        try:
            return date_time(raw)[0]
        except Bad as exc:
            self.problems.add(where, str(exc))
            return None

    def check_currency(self, node: Element, where: str, currency: str | None) -> None:
        amt = self.find(node, "Amt")
        ccy = (amt.get("Ccy") or "").upper() if amt is not None else ""
        if amt is not None and currency and ccy != currency:
            self.problems.add(
                f"{where}/Amt/@Ccy", f"币种 {ccy or '（缺）'} 与账户币种 {currency} 不符 / currency differs"
            )

    def indicator(self, node: Element, where: str) -> str | None:
        value = self.text(node, "CdtDbtInd")
        if value not in ("CRDT", "DBIT"):
            self.problems.add(f"{where}/CdtDbtInd", f"应为 CRDT 或 DBIT / must be CRDT or DBIT: {value!r}")
            return None
        return value

    # -- entries ------------------------------------------------------------------------------------

    def entries(self, stmt: Element, currency: str | None) -> list[StatementLine]:
        reader = EntryReader(self.ns, currency, self.problems)
        lines = []
        for k, ntry in enumerate(self.findall(stmt, "Ntry"), start=1):
            if self.problems.full:
                break
            line = reader.read(ntry, f"Stmt/Ntry[{k}]")
            if line is not None:
                lines.append(line)
        return lines
