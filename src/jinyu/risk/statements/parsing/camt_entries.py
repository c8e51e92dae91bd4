"""camt.053 entries (`Stmt/Ntry`), one statement line each.

A 10,000-entry file has some 200,000 elements, so entries are read with one dictionary of children per
element visited (first occurrence wins) instead of a path search per field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree.ElementTree import Element

from jinyu.core.clock import SHANGHAI
from jinyu.risk.statements.parsing import values
from jinyu.risk.statements.parsing.values import Bad, Problems
from jinyu.risk.statements.rules import StatementLine

Kids = dict[str, Element]


def date_time(raw: str) -> tuple[dt.date, dt.time | None]:
    """ISO date, or date-time (with an offset it is taken to Asia/Shanghai; without, it is local)."""
    if len(raw) == 10:
        return values.date(raw), None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Bad(f"不是有效的 ISO 日期时间 / not an ISO date-time: {raw!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.date(), moment.time().replace(tzinfo=None)


def text(node: Element | None) -> str | None:
    if node is None or not node.text:
        return None
    return node.text.strip() or None


class EntryReader:
    """Reads `Ntry` elements: one dictionary of the entry's children, then short scans below them."""

    def __init__(self, namespace: str, currency: str | None, problems: Problems) -> None:
        self.ns = "{" + namespace + "}"
        self.cut = len(self.ns)
        self.currency = currency
        self.problems = problems

    def kids(self, node: Element | None) -> Kids:
        out: Kids = {}
        if node is not None:
            for child in node:
                out.setdefault(child.tag[self.cut :], child)
        return out

    def first(self, node: Element | None, *tags: str) -> Element | None:
        for tag in tags:
            if node is None:
                return None
            name = self.ns + tag
            for child in node:
                if child.tag == name:
                    node = child
                    break
            else:
                return None
        return node

    def read(self, ntry: Element, where: str) -> StatementLine | None:
        k = self.kids(ntry)
        sts = k.get("Sts")
        status = text(sts[0] if sts is not None and len(sts) else sts)  # `Sts` (v02) or `Sts/Cd` (v08+)
        if status is not None and status != "BOOK":
            return None  # pending or information-only entries are not on the booked statement
        amount = self.amount(k.get("Amt"), where)
        indicator = text(k.get("CdtDbtInd"))
        if indicator not in ("CRDT", "DBIT"):
            self.problems.add(
                f"{where}/CdtDbtInd", f"应为 CRDT 或 DBIT / must be CRDT or DBIT: {indicator!r}"
            )
        when = self.booked(k.get("BookgDt"), where)
        if amount is None or indicator not in ("CRDT", "DBIT") or when is None:
            return None
        name_tx = self.ns + "TxDtls"
        details = [
            tx for group in ntry if group.tag == self.ns + "NtryDtls" for tx in group if tx.tag == name_tx
        ]
        tx = details[0] if details else None
        account, name = (
            self.counterparty(tx, debit=indicator == "DBIT") if len(details) == 1 else (None, None)
        )
        return StatementLine(
            source=where,
            booked_on=when[0],
            amount=-amount if indicator == "DBIT" else amount,
            time=when[1],
            counterparty_account=account,
            counterparty_name=name,
            reference=text(k.get("AcctSvcrRef")) or text(self.first(tx, "Refs", "AcctSvcrRef")),
            memo=text(self.first(tx, "RmtInf", "Ustrd")) or text(k.get("AddtlNtryInf")),
        )

    def amount(self, amt: Element | None, where: str) -> Decimal | None:
        raw = text(amt)
        if amt is None or raw is None:
            self.problems.add(f"{where}/Amt", "缺少元素 / missing element")
            return None
        ccy = (amt.get("Ccy") or "").upper()
        if self.currency and ccy != self.currency:
            self.problems.add(
                f"{where}/Amt/@Ccy",
                f"币种 {ccy or '（缺）'} 与账户币种 {self.currency} 不符 / currency differs",
            )
        try:
            value = values.amount(raw)
        except Bad as exc:
            self.problems.add(f"{where}/Amt", str(exc))
            return None
        if value <= 0:
            self.problems.add(
                f"{where}/Amt",
                "金额须为正，方向由 CdtDbtInd 表示 / amount is positive, CdtDbtInd gives the sign",
            )
            return None
        return value

    def booked(self, booking: Element | None, where: str) -> tuple[dt.date, dt.time | None] | None:
        """`BookgDt/Dt` or `BookgDt/DtTm`."""
        raw = text(self.first(booking, "Dt")) or text(self.first(booking, "DtTm"))
        if raw is None:
            self.problems.add(f"{where}/BookgDt", "缺少记账日期 / missing booking date")
            return None
        try:
            return date_time(raw)
        except Bad as exc:
            self.problems.add(f"{where}/BookgDt", str(exc))
            return None

    def counterparty(self, tx: Element | None, *, debit: bool) -> tuple[str | None, str | None]:
        """The creditor of a debit, the debtor of a credit: `Nm` or `Pty/Nm`; account `Id/Othr/Id` or `Id/IBAN`."""
        parties = self.kids(self.first(tx, "RltdPties"))
        party = parties.get("Cdtr" if debit else "Dbtr")
        name = text(self.first(party, "Nm")) or text(self.first(party, "Pty", "Nm"))
        ident = self.first(parties.get("CdtrAcct" if debit else "DbtrAcct"), "Id")
        account = text(self.first(ident, "Othr", "Id")) or text(self.first(ident, "IBAN"))
        return account, name
