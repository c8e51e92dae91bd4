"""Shared pieces of the tracing use cases: stores, access, data version, labels, money and time."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.analytics.flowindex import FlowIndexes
from jinyu.analytics.listing import Files, dataset_files, lake_listing
from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import SHANGHAI, utcnow
from jinyu.core.privacy import Keys
from jinyu.party import service as party
from jinyu.risk.purposes.rules import PURPOSES
from jinyu.risk.tracing import rules
from jinyu.risk.tracing.errors import NotABankOrganisation
from jinyu.risk.tracing.schemas import (
    AmountLine,
    Basis,
    DataVersion,
    LoanOut,
    TraceParams,
)

if TYPE_CHECKING:
    from jinyu.risk.tracing.service.context import ResidentContexts

BANK_KINDS = {OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET}
MAX_BATCH_LOANS = 20_000
CHUNK_LOANS = 2_000  # loans traced together (one statement per hop); whole months at a time
MAX_FRONTIER = 50_000  # accounts in one hop of one loan; raise the dust threshold to trace wider
PURPOSE = "贷后资金流向监测 / post-loan monitoring of the use of loan proceeds"
SINGLE_METHOD = "数据湖，每跳一条语句 / lake: one statement per hop"
BATCH_METHOD = (
    "数据湖，每批贷款每跳一条语句 / lake: one statement per hop for all loans of a chunk (up to 2,000)"
)
RESIDENT_SINGLE_METHOD = (
    "常驻转账索引，每跳一次向量化查找 / resident transfer index: one vectorised lookup per hop"
)
RESIDENT_BATCH_METHOD = (
    "常驻转账索引，每批贷款每跳一次向量化查找 / resident transfer index: one vectorised lookup per hop for all "
    "loans of a chunk (up to 2,000)"
)
DATASETS = (
    "loans",
    "loan_guarantees",
    "related_parties",
    "banks",
    "enterprises",
    "shareholders",
    "accounts",
    "transfers",
    "transfers_by_counterparty",
)
SHELL_DATASETS = ("tax_monthly", "headcount_monthly")
BALANCE_DATASETS = ("opening_balances",)  # read by pro rata's balance pool only
LISTED = DATASETS + SHELL_DATASETS + BALANCE_DATASETS  # every dataset a request's versions and checks read
UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
PURPOSE_LABELS = {code: f"{zh} / {en}" for code, (zh, en) in PURPOSES.items()}
SHELL_INDICATORS = {
    "new": "新设企业 / newly registered",
    "inactive": "无纳税与社保 / no tax or insured staff",
    "linked": "与借款人同法人、地址或电话 / shares representative, address or phone with the borrower",
}


@dataclass(frozen=True)
class Stores:
    """Where tracing reads: the analytics engine, the lake it reads (for the data version) and the key
    that pseudonymizes accounts shown as evidence.

    `flows`: the process's resident transfer indexes (serving processes); hops use the index of the lake's
    current transfers when it is built, and the lake's SQL until then (the first use starts the build in the
    background). `serving`: an engine for the per-loan statements (loan, related parties, evidence accounts)
    with the small datasets held in memory; None: `engine`. `contexts`: the resident tracing contexts (no
    statement per loan, `service.context`); None: the process's shared ones when `flows` is set."""

    engine: Engine
    lake_root: Path
    pseudonym_key: Keys
    flows: FlowIndexes | None = None
    serving: Engine | None = None
    contexts: ResidentContexts | None = None
    listing: Mapping[str, Files] | None = None

    def pinned(self) -> Stores:
        """These stores with the lake's files listed once (`list_lake`): a request's data version, resident
        index and context freshness checks all read this one listing, not the directory tree each time (and
        agree with each other should a load land mid-request)."""
        return self if self.listing is not None else replace(self, listing=list_lake(self.lake_root))

    @property
    def lookups(self) -> Engine:
        """The engine for the per-loan statements."""
        return self.serving if self.serving is not None else self.engine


# -- shared pieces ------------------------------------------------------------------------------------------


def bank_root(session: Session, principal: Principal) -> str:
    """The caller's bank node code: the root of every loan it may trace."""
    principal.require(Perm.RISK_QUERY)
    code = party.org_code(session, principal.org_id)
    if code is None or principal.org_kind not in BANK_KINDS:
        raise NotABankOrganisation(detail=principal.org_kind.value)
    return code


def list_lake(lake_root: Path) -> Mapping[str, Files]:
    """The files of every dataset tracing reads (`LISTED`): listed now, or the listing of an earlier request
    when no write has changed the lake since (`listing.lake_listing`, the lake's change marker)."""
    return lake_listing(lake_root, LISTED)


def files_of(lake_root: Path, dataset: str, listing: Mapping[str, Files] | None = None) -> Files:
    """The dataset's files from `listing` when it has them, else listed now."""
    if listing is not None and dataset in listing:
        return listing[dataset]
    return dataset_files(lake_root, dataset)


def data_version(
    lake_root: Path, datasets: Iterable[str], listing: Mapping[str, Files] | None = None
) -> DataVersion:
    """A fingerprint of the files a result was computed from (the lake only ever adds files); `listing`:
    the request's listing (`Stores.pinned`), None: list now.

    A request asks for it several times (the result's version, the resident context's and the stop accounts'
    freshness) and almost every request sees the files the previous one saw: the hash is kept per file set
    (names, sizes, inodes, as listed), so a load or a rewrite gives a new key and is hashed afresh."""
    names = tuple(sorted(set(datasets)))
    # A read-only listing (`list_lake`'s): its identity decides.
    pinned = listing if isinstance(listing, MappingProxyType) else None
    if pinned is not None:
        by_listing = (id(pinned), str(lake_root), names)
        with _VERSIONS_LOCK:
            seen = _BY_LISTING.get(by_listing)
        if seen is not None and seen[0] is pinned:
            return _version(seen[1])
    key = (names, tuple(files_of(lake_root, dataset, listing) for dataset in names))
    with _VERSIONS_LOCK:
        known = _VERSIONS.get(key)
        if known is not None:
            _VERSIONS.move_to_end(key)
    if known is None:
        known = _fingerprint(key)
        with _VERSIONS_LOCK:
            _VERSIONS[key] = known
            while len(_VERSIONS) > _VERSIONS_KEPT:
                _VERSIONS.popitem(last=False)
    if pinned is not None:
        with _VERSIONS_LOCK:
            _BY_LISTING[by_listing] = (pinned, known)
            while len(_BY_LISTING) > _VERSIONS_KEPT:
                _BY_LISTING.popitem(last=False)
    return _version(known)


def _version(known: tuple[str, int, str | None]) -> DataVersion:
    """A new model each time: the answer may be put into a result, which is the caller's to change."""
    fingerprint, count, last = known
    return DataVersion(fingerprint=fingerprint, files=count, transfers_last_month=last)


# (dataset names, their files) -> (fingerprint, file count, last month of transfers); a few file sets at once
# (a request's three dataset groups, and the one before a load while requests still hold it).
_VersionKey = tuple[tuple[str, ...], tuple[Files, ...]]
_VERSIONS: OrderedDict[_VersionKey, tuple[str, int, str | None]] = OrderedDict()
_VERSIONS_LOCK = threading.Lock()
_VERSIONS_KEPT = 16
# (id of a listing, lake root, dataset names) -> (that listing, its version). A listing is read-only and one
# is served to every request while the lake is unchanged (`listing.lake_listing`), so the same object asks
# for the same version several times a request; building and hashing `_VERSIONS`' key of every file each
# time cost more than the rest of this function. The listing is held here, so its id is not reused while
# the entry lives.
_ListingKey = tuple[int, str, tuple[str, ...]]
_BY_LISTING: OrderedDict[_ListingKey, tuple[Mapping[str, Files], tuple[str, int, str | None]]] = OrderedDict()


def _fingerprint(key: _VersionKey) -> tuple[str, int, str | None]:
    digest, count, last = hashlib.sha256(), 0, None
    for dataset, files in zip(*key, strict=True):
        for rel, size, _ in files:
            digest.update(f"{rel}\t{size}\n".encode())
            count += 1
            parts = rel.split("/")
            parent = parts[-2] if len(parts) > 1 else ""
            if dataset == "transfers" and parent.startswith("month="):
                month = parent.removeprefix("month=")
                last = month if last is None or month > last else last
    return digest.hexdigest()[:32], count, last


def datasets_for(params: TraceParams, misuse: bool) -> tuple[str, ...]:
    """The datasets a result is computed from (its data version): shells' activity for misuse, balances of
    record for pro rata's balance pool."""
    balance = params.policy == "pro_rata" and params.pool == "balance"
    return DATASETS + (SHELL_DATASETS if misuse else ()) + (BALANCE_DATASETS if balance else ())


def basis_for(params: TraceParams, version: DataVersion, method: str) -> Basis:
    zh, en = rules.POLICY_TEXT[params.policy]
    return Basis(
        policy=params.policy,
        policy_text=f"{zh} / {en}",
        params=TraceParams.model_construct(**params.model_dump(include=set(TraceParams.model_fields))),
        data_version=version,
        computed_at=utcnow(),
        method=method,
    )


def audit_inquiry(
    session: Session,
    principal: Principal,
    action: str,
    loan_id: str,
    inquiry_id: str,
    verdict: str,
    basis: Basis,
) -> None:
    audit.record(
        session,
        principal,
        action=action,
        subject_type="loan",
        subject_ids=[loan_id],
        purpose=PURPOSE,
        detail={
            "inquiry_id": inquiry_id,
            "verdict": verdict,
            "policy": basis.policy,
            "max_hops": basis.params.max_hops,
            "window_days": basis.params.window_days,
            "data_version": basis.data_version.fingerprint,
        },
    )


def inquiry_detail(params: TraceParams, version: DataVersion, **extra: str) -> dict[str, Any]:
    return {
        "policy": params.policy,
        "max_hops": params.max_hops,
        "window_days": params.window_days,
        "dust": str(params.dust),
        "data_version": version.fingerprint,
        **extra,
    }


def loan_out(loan: Mapping[str, Any]) -> LoanOut:
    return LoanOut(
        loan_id=str(loan["loan_id"]),
        bank_code=str(loan["bank_code"]),
        borrower_uscc=str(loan["borrower_uscc"]),
        borrower_name=loan.get("borrower_name"),
        amount=Decimal(loan["amount"]),
        disbursed_at=utc(loan["disbursed_at"]),
        term_months=int(loan["term_months"]),
        declared_purpose=str(loan["declared_purpose"]),
    )


def amount_line(kind: str, label: str, fen: int, whole: int) -> AmountLine:
    return AmountLine(kind=kind, label=label, amount=rules.yuan(fen), share=rules.share(fen, whole))


def kind_label(kind: str) -> str:
    zh, en = rules.KIND_LABELS.get(kind, (kind, kind))
    return f"{zh} / {en}"


def verdict_label(verdict: str) -> str:
    zh, en = rules.VERDICT_TEXT[verdict]
    return f"{zh} / {en}"


def fen_of(amount: Decimal | int | str) -> int:
    return int((Decimal(amount) * 100).to_integral_exact())


def utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def month_of(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m")


def add_months(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(month: str) -> dt.datetime:
    return dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=SHANGHAI).astimezone(UTC)
