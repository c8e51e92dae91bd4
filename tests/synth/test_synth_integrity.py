"""Referential integrity, manifest truthfulness, and the content later features rely on."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from jinyu.core.ids import validate_bank_card, validate_resident_id, validate_uscc
from jinyu.governance.contracts import CONTRACTS
from jinyu.synth import Manifest

Rows = Callable[[str], list[dict[str, Any]]]


def test_manifest_counts_and_digests_match_the_files(region_dir: Path, manifest: Manifest) -> None:
    assert manifest.scale == "small" and manifest.seed == 7
    assert (manifest.first_period, manifest.last_period, manifest.reference_date) == (
        "2023-01",
        "2024-12",
        "2024-12-31",
    )
    for ds in manifest.datasets.values():
        for f in ds.files:
            path = region_dir / f.path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == f.sha256
            assert path.stat().st_size == f.size
            if path.suffix == ".parquet":
                assert pq.ParquetFile(path).metadata.num_rows == f.rows
            else:
                assert len(path.read_text(encoding="utf-8").splitlines()) - 1 == f.rows


def test_contract_references_resolve(rows: Rows) -> None:
    for name, contract in CONTRACTS.items():
        for column, target in contract.references.items():
            dataset, target_column = target.split(".")
            known = {r[target_column] for r in rows(dataset)}
            missing = {r[column] for r in rows(name) if r[column] is not None} - known
            assert not missing, f"{name}.{column} -> {target}: {sorted(missing)[:3]}"


def test_account_and_loan_links(rows: Rows) -> None:
    banks = {b["org_code"]: b for b in rows("banks")}
    accounts = {a["account_no"]: a for a in rows("accounts")}
    assert all(banks[a["bank_code"]]["level"] == "outlet" for a in accounts.values())
    for b in banks.values():
        assert (b["parent_code"] is None) == (b["level"] == "head_office")
        if b["parent_code"]:
            parent_level = banks[b["parent_code"]]["level"]
            assert parent_level == ("head_office" if b["level"] == "branch" else "branch")
    disbursements = {
        (t["to_account"], t["amount"], t["ts"])
        for t in rows("transfers")
        if (t["memo"] or "").startswith("贷款发放")
    }
    for loan in rows("loans"):
        account = accounts[loan["disbursement_account"]]
        assert account["owner_id"] == loan["borrower_uscc"]
        assert banks[loan["bank_code"]]["level"] == "branch"
        assert banks[account["bank_code"]]["parent_code"] == loan["bank_code"]  # lent where the account is
        assert (loan["disbursement_account"], loan["amount"], loan["disbursed_at"]) in disbursements
    managers = rows("customer_managers")
    assert {banks[m["org_code"]]["level"] for m in managers} == {"branch", "outlet"}


def test_every_identifier_has_a_valid_check_character(rows: Rows) -> None:
    usccs = [e["uscc"] for e in rows("enterprises")] + [b["uscc"] for b in rows("banks") if b["uscc"]]
    usccs += [i["uscc"] for i in rows("institutions") if i["uscc"]]
    ids = [e["legal_rep_id"] for e in rows("enterprises")]
    for h in rows("shareholders"):
        (usccs if h["holder_type"] == "enterprise" else ids).append(h["holder_id"])
    for a in rows("accounts"):
        (ids if a["owner_type"] == "person" else usccs).append(a["owner_id"])
    for code in usccs:
        assert validate_uscc(code) == code
    for number in ids:
        assert validate_resident_id(number) == number
        # GB 11643 / ISO 7064 MOD 11-2 computed here, independently of jinyu.core.ids
        weights = [pow(2, 17 - i, 11) for i in range(17)]
        assert (
            "10X98765432"[sum(int(c) * w for c, w in zip(number[:17], weights, strict=True)) % 11]
            == number[17]
        )
    old_chongqing = [i for i in ids if i.startswith("500") and int(i[6:10]) < 1997]
    assert len(old_chongqing) > 100


def test_related_party_links_exist(rows: Rows) -> None:
    enterprises = rows("enterprises")
    for column in ("legal_rep_id", "address", "phone"):
        shared = [v for v, n in Counter(e[column] for e in enterprises if e[column]).items() if n > 1]
        assert shared, f"no enterprises share a {column}"
    held_by_enterprise = [h for h in rows("shareholders") if h["holder_type"] == "enterprise"]
    assert held_by_enterprise
    ratios: defaultdict[str, Decimal] = defaultdict(Decimal)
    for h in rows("shareholders"):
        ratios[h["uscc"]] += Decimal(h["share_ratio"])
    assert set(ratios.values()) == {Decimal("100.00")}
    assert set(ratios) == {e["uscc"] for e in enterprises}


def test_new_display_chain_has_five_segments_and_one_core(rows: Rows) -> None:
    members = [m for m in rows("chain_members") if m["chain_code"] == "new_display"]
    assert {m["segment"] for m in members} == {"materials", "panels", "modules", "devices", "dealers"}
    cores = [m for m in members if m["is_core"] == "true"]
    assert len(cores) == 1 and cores[0]["segment"] == "panels"
    by_chain = Counter((m["chain_code"], m["is_core"]) for m in rows("chain_members"))
    assert {chain for chain, core in by_chain if core == "true"} == {"new_display", "auto", "biomed"}
    assert all(n == 1 for (_, core), n in by_chain.items() if core == "true")


def test_money_flows_upstream_along_the_chain(rows: Rows) -> None:
    segment = {m["uscc"]: m["segment"] for m in rows("chain_members") if m["chain_code"] == "new_display"}
    owner = {a["account_no"]: a["owner_id"] for a in rows("accounts")}
    order = ["materials", "panels", "modules", "devices", "dealers"]
    pairs = Counter()
    for t in rows("transfers"):
        payer, payee = segment.get(owner[t["from_account"]]), segment.get(owner[t["to_account"]])
        if payer and payee:
            pairs[order.index(payer) - order.index(payee)] += 1
    assert pairs[1] > 0 and set(pairs) == {1}  # each segment pays the one before it, never the reverse


def test_institutions_cover_hospitals_insurers_and_bureaus(rows: Rows) -> None:
    institutions = rows("institutions")
    kinds = Counter(i["kind"] for i in institutions)
    assert set(kinds) == {"insurer", "hospital", "pharma", "bureau"}
    names = " ".join(i["name"] for i in institutions if i["kind"] == "bureau")
    for word in (
        "市场监督管理局",
        "税务局",
        "人力资源和社会保障局",
        "住房公积金管理中心",
        "知识产权局",
        "法院",
    ):
        assert word in names
    hospitals = [i for i in institutions if i["kind"] == "hospital"]
    assert all(h["hospital_grade"] and h["in_prepayment"] in ("true", "false") for h in hospitals)
    prepaid = [h for h in hospitals if h["in_prepayment"] == "true"]
    assert prepaid and all(h["hospital_grade"] in ("3A", "3B") for h in prepaid)
    assert all(
        i["hospital_grade"] is None and i["in_prepayment"] is None
        for i in institutions
        if i["kind"] != "hospital"
    )


def test_tax_paid_matches_tax_transfers(rows: Rows) -> None:
    accounts = {a["account_no"]: a for a in rows("accounts")}
    paid = Counter()
    for t in rows("transfers"):
        if accounts[t["to_account"]]["category"] == "tax_authority":
            period = t["memo"].split()[-1]
            paid[(accounts[t["from_account"]]["owner_id"], period)] += t["amount"]
    declared = {(r["uscc"], r["period"]): r["tax_paid"] for r in rows("tax_monthly") if r["tax_paid"]}
    last = max(r["period"] for r in rows("tax_monthly"))
    assert paid == {k: v for k, v in declared.items() if k[1] != last}  # the last period is paid next year


def test_transfers_are_heavy_tailed_and_mostly_in_working_hours(rows: Rows) -> None:
    transfers = rows("transfers")
    assert 40_000 <= len(transfers) <= 60_000
    amounts = sorted(t["amount"] for t in transfers)
    assert amounts[-len(amounts) // 100] > 20 * amounts[len(amounts) // 2]  # top 1% far above the median
    goods = [t["ts"] for t in transfers if t["memo"] == "货款"]
    office = [ts for ts in goods if ts.weekday() < 5 and 9 <= ts.hour < 18]
    assert len(office) > 0.75 * len(goods)
    assert [t["txn_id"] for t in transfers] == sorted(t["txn_id"] for t in transfers)
    assert [t["ts"] for t in transfers] == sorted(t["ts"] for t in transfers)


def test_the_core_enterprise_gets_its_pure_credit_loan(rows: Rows) -> None:
    core = next(
        m["uscc"]
        for m in rows("chain_members")
        if m["chain_code"] == "new_display" and m["is_core"] == "true"
    )
    loans = [loan for loan in rows("loans") if loan["borrower_uscc"] == core]
    assert any(loan["amount"] == Decimal("50000000.00") for loan in loans)


def test_no_account_moves_money_before_it_is_opened(rows: Rows) -> None:
    opened = {a["account_no"]: a["opened_on"] for a in rows("accounts")}
    for t in rows("transfers"):
        day = t["ts"].date()
        assert opened[t["from_account"]] <= day and opened[t["to_account"]] <= day, t["txn_id"]
        assert t["from_account"] != t["to_account"]
    established = {e["uscc"]: e["established_on"] for e in rows("enterprises")}
    for a in rows("accounts"):
        if a["owner_id"] in established:
            assert a["opened_on"].isoformat() >= established[a["owner_id"]]


def test_personal_accounts_are_valid_card_numbers(rows: Rows) -> None:
    cards = [a["account_no"] for a in rows("accounts") if a["category"] == "personal"]
    assert cards and all(validate_bank_card(c) == c for c in cards)
    assert len({a["account_no"] for a in rows("accounts")}) == len(rows("accounts"))
