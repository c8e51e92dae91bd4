"""Reading statements: the CSV layout and camt.053; malformed input names its line or element."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jinyu.risk.statements.errors import StatementMalformed, StatementTooLarge
from jinyu.risk.statements.parsing import MAX_BYTES, StatementFormat, detect, parse

CSV = """account,1100001000000000001
account_name,重庆甲科技有限公司
currency,CNY
period_start,2024-03-01
period_end,2024-03-31
opening_balance,"10,000.00"
closing_balance,10900.00

date,time,counterparty_account,counterparty_name,amount,balance,reference,memo
2024-03-01,09:00:00,6222 0000 0000 0001,张三,1000.00,11000.00,T000000000001,货款
2024-03-02,10:00,,重庆乙贸易有限公司,-100.00,10900.00,,
"""

CSV_ZH_DEBIT_CREDIT = """账号,1100001000000000001
期间,2024-02
期初余额,0.00
期末余额,50.00
开户行,某某支行
交易日期,对方户名,借方发生额,贷方发生额,余额,摘要,对方开户行
2024-02-29 23:10:05,乙,,80.00,80.00,货款,某行
2024-02-29,丙,30.00,,50.00,,
"""


def _camt(entries: str, *, ccy: str = "CNY", ns: str = "camt.053.001.08", extra_bal: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{ns}">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-04-01T08:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S1</Id>
   <FrToDt><FrDtTm>2024-03-01T00:00:00+08:00</FrDtTm><ToDtTm>2024-03-31T23:59:59+08:00</ToDtTm></FrToDt>
   <Acct><Id><Othr><Id>1100001000000000001</Id></Othr></Id><Ccy>{ccy}</Ccy><Nm>重庆甲科技有限公司</Nm></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Dt><Dt>2024-03-01</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    <Dt><Dt>2024-03-31</Dt></Dt></Bal>{extra_bal}
   {entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


DEBIT = """<Ntry><Amt Ccy="CNY">105.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
 <BookgDt><DtTm>2024-03-05T02:30:00Z</DtTm></BookgDt><AcctSvcrRef>T000000000007</AcctSvcrRef>
 <NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>重庆乙贸易有限公司</Nm></Pty></Cdtr>
  <CdtrAcct><Id><Othr><Id>6222000000000001</Id></Othr></Id></CdtrAcct>
  <Dbtr><Pty><Nm>重庆甲科技有限公司</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>货款</Ustrd></RmtInf>
 </TxDtls></NtryDtls></Ntry>"""
CREDIT_V02 = """<Ntry><Amt Ccy="CNY">7.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
 <BookgDt><Dt>2024-03-06</Dt></BookgDt>
 <NtryDtls><TxDtls><Refs><AcctSvcrRef>T000000000009</AcctSvcrRef></Refs>
  <RltdPties><Dbtr><Nm>张*</Nm></Dbtr><DbtrAcct><Id><IBAN>CN0000000000000002</IBAN></Id></DbtrAcct></RltdPties>
 </TxDtls></NtryDtls><AddtlNtryInf>转账</AddtlNtryInf></Ntry>"""
PENDING = """<Ntry><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
 <BookgDt><Dt>2024-03-07</Dt></BookgDt></Ntry>"""


def test_csv_layout() -> None:
    s = parse(CSV.encode())
    assert (s.format, s.account_no, s.account_name, s.currency) == (
        "csv",
        "1100001000000000001",
        "重庆甲科技有限公司",
        "CNY",
    )
    assert (s.period_start, s.period_end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert (s.opening_balance, s.closing_balance) == (Decimal("10000.00"), Decimal("10900.00"))
    first, second = s.lines
    assert (first.source, first.amount, first.time, first.balance) == (
        "line 10", Decimal("1000.00"), dt.time(9, 0), Decimal("11000.00"),
    )  # fmt: skip
    assert (first.counterparty_account, first.reference, first.memo) == (
        "6222 0000 0000 0001",
        "T000000000001",
        "货款",
    )
    assert (second.counterparty_account, second.counterparty_name, second.reference) == (
        None,
        "重庆乙贸易有限公司",
        None,
    )


def test_csv_chinese_headers_debit_credit_whole_month_and_gb18030() -> None:
    s = parse(CSV_ZH_DEBIT_CREDIT.encode("gb18030"))
    assert (s.period_start, s.period_end) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert [(x.amount, x.time, x.memo) for x in s.lines] == [
        (Decimal("80.00"), dt.time(23, 10, 5), "货款"),
        (Decimal("-30.00"), None, None),
    ]


def test_camt053_subset() -> None:
    s = parse(_camt(DEBIT + CREDIT_V02 + PENDING))
    assert (s.format, s.account_no, s.currency, s.account_name) == (
        "camt053",
        "1100001000000000001",
        "CNY",
        "重庆甲科技有限公司",
    )
    assert (s.opening_balance, s.closing_balance) == (Decimal("100.00"), Decimal("-5.00"))
    assert (s.period_start, s.period_end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    debit, credit = s.lines  # the pending entry is not on the booked statement
    assert (debit.source, debit.amount, debit.booked_on, debit.time) == (
        "Stmt/Ntry[1]", Decimal("-105.00"), dt.date(2024, 3, 5), dt.time(10, 30),
    )  # fmt: skip
    assert (debit.counterparty_account, debit.counterparty_name, debit.reference, debit.memo) == (
        "6222000000000001", "重庆乙贸易有限公司", "T000000000007", "货款",
    )  # fmt: skip
    assert (credit.amount, credit.counterparty_account, credit.counterparty_name) == (
        Decimal("7.00"), "CN0000000000000002", "张*",
    )  # fmt: skip
    assert (credit.reference, credit.memo, credit.balance) == ("T000000000009", "转账", None)


def test_camt053_period_from_balances_when_no_from_to() -> None:
    data = _camt(DEBIT).replace(b"<FrToDt><FrDtTm>2024-03-01T00:00:00+08:00</FrDtTm>", b"<X><Y>")
    data = data.replace(b"<ToDtTm>2024-03-31T23:59:59+08:00</ToDtTm></FrToDt>", b"</Y></X>")
    s = parse(data)
    assert (s.period_start, s.period_end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (CSV.encode(), StatementFormat.CSV),
        (_camt(""), StatementFormat.CAMT053),
        (b"\xef\xbb\xbf\n <x/>", StatementFormat.CAMT053),
    ],
)
def test_detect(data: bytes, fmt: StatementFormat) -> None:
    assert detect(data) == fmt


def _fields(data: bytes, fmt: StatementFormat | None = None) -> dict[str, str]:
    with pytest.raises(StatementMalformed) as caught:
        parse(data, fmt)
    assert caught.value.status == 422
    return {f.field: f.message for f in caught.value.fields}


CSV_HEAD = "account,1\nperiod_start,2024-03-01\nperiod_end,2024-03-31\nopening_balance,0\nclosing_balance,0\n"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("date,amount\n2024-03-01,abc\n", "line 7/amount", "not a decimal amount"),
        ("date,amount\n2024-03-01,1.005\n", "line 7/amount", "two decimals"),
        ("date,amount\n2024-03-01,\n", "line 7/amount", "missing amount"),
        ("date,amount\n2024-03-01,0\n", "line 7/amount", "not be zero"),
        ("date,amount\n2024-13-01,1\n", "line 7/date", "not a date"),
        ("date,amount\n2024-04-01,1\n", "line 7/date", "outside the period"),
        ("date,time,amount\n2024-03-01,25:00,1\n", "line 7/time", "not a time"),
        ("date,amount,balance\n2024-03-01,1,x\n", "line 7/balance", "not a decimal"),
        ("date,debit,credit\n2024-03-01,1,2\n", "line 7", "exactly one of debit and credit"),
        ("date,debit,credit\n2024-03-01,-1,\n", "line 7/debit", "not negative"),
        ("date,amount,debit,credit\n2024-03-01,1,,\n", "line 6", "not both"),
        ("date,counterparty_name\n2024-03-01,x\n", "line 6", "need amount"),
        ("date,memo,amount\n2024-03-01\n", "line 7", "expected 3 columns"),
        ("amount\n1\n", "header", "no line header"),
    ],
)
def test_malformed_csv_names_the_line(body: str, field: str, words: str) -> None:
    fields = _fields((CSV_HEAD + body).encode())
    assert field in fields, fields
    assert words in fields[field]


def test_malformed_csv_header_rows_and_every_problem_at_once() -> None:
    data = "account,1\nperiod,2024-13\nopening_balance,1.001\ncurrency,RMB1\n\ndate,amount\n2024-03-01,abc\n"
    fields = _fields(data.encode())
    assert set(fields) == {
        "line 2/period",
        "line 3/opening_balance",
        "line 4/currency",
        "closing_balance",
        "line 7/amount",
    }
    assert "missing the closing_balance row" in fields["closing_balance"]


def test_bad_encoding_and_empty_file() -> None:
    assert "file" in _fields(b"\x81\x30\x81")  # neither UTF-8 nor a complete GB18030 sequence
    assert "file" in _fields(b"  \n")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"<Document><Stmt></Document>", "xml", "line 1, column"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Document/>', "xml", "refused"),
        (b"<Document>\n  <Stmt>\n  </Bal>\n</Document>", "xml", "line 3, column 4"),  # as uploaded
        ("<Document/>".encode("utf-16"), "xml", "must be UTF-8"),
        (b"<Document>\x00</Document>", "xml", "NUL"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>', "Document", "not a camt.053"),
        (
            _camt(DEBIT).replace(b"<Stmt>", b"<Stmt><Ntry/></Stmt><Stmt>", 1),
            "BkToCstmrStmt/Stmt",
            "exactly one",
        ),
        (_camt(DEBIT.replace('Ccy="CNY">105', 'Ccy="USD">105')), "Stmt/Ntry[1]/Amt/@Ccy", "currency differs"),
        (_camt(DEBIT.replace(">105.00<", ">1O5.00<")), "Stmt/Ntry[1]/Amt", "not a decimal"),
        (_camt(DEBIT.replace(">105.00<", ">-105.00<")), "Stmt/Ntry[1]/Amt", "positive"),
        (
            _camt(DEBIT.replace("<CdtDbtInd>DBIT", "<CdtDbtInd>DEBIT")),
            "Stmt/Ntry[1]/CdtDbtInd",
            "CRDT or DBIT",
        ),
        (
            _camt(DEBIT.replace("2024-03-05T02:30:00Z", "2024-04-05T02:30:00Z")),
            "Stmt/Ntry[1]/BookgDt",
            "outside",
        ),
        (_camt(DEBIT.replace("<DtTm>2024-03-05T02:30:00Z</DtTm>", "")), "Stmt/Ntry[1]/BookgDt", "missing"),
        (
            _camt(DEBIT.replace("<BookgDt><DtTm>2024-03-05T02:30:00Z", "<BookgDt><DtTm>5 March")),
            "Stmt/Ntry[1]/BookgDt",
            "ISO",
        ),
        (_camt(DEBIT).replace(b"<Cd>OPBD</Cd>", b"<Cd>ITBD</Cd>"), "Stmt/Bal[OPBD]", "exactly one OPBD"),
        (
            _camt(DEBIT, extra_bal="<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp></Bal>"),
            "Stmt/Bal[CLBD]",
            "exactly one",
        ),
        (
            _camt(DEBIT).replace(b"<Othr><Id>1100001000000000001</Id></Othr>", b""),
            "Stmt/Acct/Id",
            "missing account",
        ),
        (_camt(DEBIT, ccy="RMB1"), "Stmt/Acct/Ccy", "ISO 4217"),
        (
            _camt("").replace(b"<Ccy>CNY</Ccy>", b"").replace(b' Ccy="CNY"', b""),
            "Stmt/Acct/Ccy",
            "no currency",
        ),
    ],
)
def test_malformed_camt053_names_the_element(data: bytes, field: str, words: str) -> None:
    fields = _fields(data, StatementFormat.CAMT053)
    assert field in fields, fields
    assert words in fields[field]


def test_too_large() -> None:
    with pytest.raises(StatementTooLarge) as caught:
        parse(b"x" * (MAX_BYTES + 1))
    assert caught.value.status == 413
