"""HTTP handlers of the claim domain under /claims: thin — declare the permission, call one service function.

Hospital systems authenticate with `X-API-Key` (service accounts with the hospital_system role).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from jinyu.claim import service
from jinyu.claim.batcher import SettlementBatcher
from jinyu.claim.schemas import (
    AlertOut,
    CancelIn,
    ConcentrationOut,
    ConfirmIn,
    EligibilityIn,
    EligibilityOut,
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentStatusIn,
    JournalOut,
    LedgerBookIn,
    LedgerBookOut,
    LedgerEntryIn,
    PostDischargeIn,
    ProductIn,
    ProductOut,
    ReconFileIn,
    ReconRunOut,
    ReportOut,
    SettleIn,
    SettlementOut,
    SettlementSummary,
    TransferIn,
)
from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.privacy import Keys
from jinyu.core.web import SessionDep, require, require_sessionless

router = APIRouter(prefix="/claims", tags=["claims 一站式理赔"])
PATH = "/claims/settlements"  # instant settlement, under the API prefix
REPLAYED = "Idempotent-Replayed"
KEYRING_REFRESH_SECONDS = 2.0


def key_of(request: Request) -> Keys:
    """The pseudonym keyring, re-read at most every few seconds (a key rotation is seen that soon) rather than
    per settlement: reading the key files costs more than an instant settlement may spend on it."""
    cached: tuple[float, Keys] | None = getattr(request.app.state, "claim_pseudonym_keys", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > KEYRING_REFRESH_SECONDS:
        cached = (now, request.app.state.settings.pseudonym_keys())
        request.app.state.claim_pseudonym_keys = cached
    return cached[1]


def _answer(response: Response, settled: service.Settled) -> SettlementOut:
    if settled.replayed:
        response.headers[REPLAYED] = "true"
        response.status_code = status.HTTP_200_OK
    return settled.settlement


# ------------------------------------------------------------------------------------------------ products


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def create_product(
    data: ProductIn, session: SessionDep, principal: Principal = require(Perm.CLAIM_MANAGE)
) -> ProductOut:
    """保存产品规则的新版本 / store a new version of a product's rules (validated; draft unless activate)."""
    return service.create_product(session, principal, data)


@router.get("/products", response_model=Page[ProductOut])
def list_products(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    code: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ProductOut]:
    return service.list_products(session, principal, code, limit, offset)


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(
    product_id: str, session: SessionDep, principal: Principal = require(Perm.CLAIM_READ)
) -> ProductOut:
    return service.get_product(session, principal, product_id)


@router.post("/products/{product_id}/activate", response_model=ProductOut)
def activate_product(
    product_id: str, session: SessionDep, principal: Principal = require(Perm.CLAIM_MANAGE)
) -> ProductOut:
    """启用此版本（原启用版本停用）/ make this version the active one."""
    return service.activate_product(session, principal, product_id)


# ------------------------------------------------------------------------------------------------ enrollment


@router.post("/enrollments", response_model=EnrollmentOut, status_code=status.HTTP_201_CREATED)
def enroll(
    data: EnrollmentIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_MANAGE),
) -> EnrollmentOut:
    """参保登记（身份证号仅以假名化令牌与掩码保存）/ enroll a person (ID kept as token and mask only)."""
    return service.enroll(session, principal, data, key_of(request))


@router.get("/enrollments", response_model=Page[EnrollmentOut])
def list_enrollments(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    product_code: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EnrollmentOut]:
    return service.list_enrollments(session, principal, product_code, limit, offset)


@router.post("/enrollments/{enrollment_id}/status", response_model=EnrollmentOut)
def set_enrollment_status(
    enrollment_id: str,
    data: EnrollmentStatusIn,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_MANAGE),
) -> EnrollmentOut:
    return service.set_status(session, principal, enrollment_id, data)


@router.post("/eligibility", response_model=list[EligibilityOut])
def eligibility(
    data: EligibilityIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
) -> list[EligibilityOut]:
    """资格与剩余免赔额、限额 / coverage, remaining deductible and caps per liability."""
    return service.eligibility(session, principal, data, key_of(request))


# ------------------------------------------------------------------------------------------------ settlement


@router.post("/settlements", response_model=SettlementOut, status_code=status.HTTP_201_CREATED)
async def settle(
    data: SettleIn,
    request: Request,
    principal: Principal = require_sessionless(Perm.CLAIM_SETTLE),
) -> Response:
    """出院即时结算 / instant settlement at discharge. 201 new; 200 + `Idempotent-Replayed: true` on a replay;
    409 when the message id or (mdtrt_id, setl_id) was used for a different request, or the visit (mdtrt_id)
    already has a settlement in force (`visit_already_settled`, naming it in `existing`)."""
    # Served by `claim.fastroute.SettleRoute` in the app (same steps, without the framework's routing); this
    # route describes it in the API and serves apps that mount the router alone. Discharges arriving together
    # are settled in one transaction by the process's settlement thread (claim.batcher), which commits before
    # answering.
    return answer(await batcher_of(request).settle(principal, data, key_of(request)))


def answer(settled: service.Settled) -> Response:
    """201 with the settlement, or 200 and `Idempotent-Replayed: true` for a replay; pre-serialised JSON (the
    document FastAPI would make from SettlementOut, without validating it a second time)."""
    return Response(
        settled.settlement.model_dump_json(),
        status_code=status.HTTP_200_OK if settled.replayed else status.HTTP_201_CREATED,
        media_type="application/json",
        headers={REPLAYED: "true"} if settled.replayed else None,
    )


def batcher_of(request: Request) -> SettlementBatcher:
    """The process's settlement batcher (made on first use: one per app)."""
    batcher: SettlementBatcher | None = getattr(request.app.state, "settlement_batcher", None)
    if batcher is None:
        settings = request.app.state.settings
        batcher = SettlementBatcher(
            request.app.state.sessionmaker,
            settings.settle_batch,
            settings.settle_threads,
            window_ms=settings.settle_window_ms,
        )
        request.app.state.settlement_batcher = batcher
    return batcher


@router.get("/settlements", response_model=Page[SettlementSummary])
def list_settlements(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    status_: Annotated[str | None, Query(alias="status")] = None,
    business_date: dt.date | None = None,
    mdtrt_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SettlementSummary]:
    return service.list_settlements(
        session,
        principal,
        status=status_,
        business_date_=business_date,
        mdtrt_id=mdtrt_id,
        limit=limit,
        offset=offset,
    )


@router.get("/settlements/{settlement_id}", response_model=SettlementOut)
def get_settlement(
    settlement_id: str, session: SessionDep, principal: Principal = require(Perm.CLAIM_READ)
) -> SettlementOut:
    return service.get_settlement(session, principal, settlement_id)


@router.post("/settlements/{settlement_id}/confirm", response_model=SettlementOut)
def confirm(
    settlement_id: str,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_SETTLE),
    data: ConfirmIn | None = None,
) -> SettlementOut:
    """医院确认结算结果 / the hospital confirms a pending outcome (idempotent)."""
    return service.confirm(session, principal, settlement_id)


@router.post("/settlements/{settlement_id}/cancel", response_model=SettlementOut)
def cancel(
    settlement_id: str,
    data: CancelIn,
    response: Response,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_SETTLE),
) -> SettlementOut:
    """撤销结算（冲正，新增反向分录）/ cancel: new negative entries, accumulators restored exactly."""
    settled = service.cancel(session, principal, settlement_id, data)
    if settled.replayed:
        response.headers[REPLAYED] = "true"
    return settled.settlement


@router.post("/settlements/{settlement_id}/post-discharge", response_model=SettlementOut)
def transfer(
    settlement_id: str,
    data: TransferIn,
    response: Response,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_MANAGE),
) -> SettlementOut:
    """将延期结算转为出院后理赔 / pay a deferred settlement as a post-discharge claim."""
    return _answer(
        response, service.transfer_to_post_discharge(session, principal, settlement_id, data.msg_id)
    )


@router.get("/settlements/{settlement_id}/fhir")
def export_fhir(
    settlement_id: str, session: SessionDep, principal: Principal = require(Perm.CLAIM_READ)
) -> JSONResponse:
    """FHIR R4 ClaimResponse."""
    doc: dict[str, Any] = service.export_fhir(session, principal, settlement_id)
    return JSONResponse(doc, media_type="application/fhir+json")


@router.post("/post-discharge", response_model=SettlementOut, status_code=status.HTTP_201_CREATED)
def post_discharge(
    data: PostDischargeIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_MANAGE),
) -> SettlementOut:
    """出院后理赔（非直赔医院）/ a post-discharge claim for a hospital outside direct settlement."""
    return _answer(response, service.post_discharge(session, principal, data, key_of(request)))


# ------------------------------------------------------------------------------------------------ ledger


@router.post("/ledger/books", response_model=LedgerBookOut, status_code=status.HTTP_201_CREATED)
def create_book(
    data: LedgerBookIn, session: SessionDep, principal: Principal = require(Perm.CLAIM_MANAGE)
) -> LedgerBookOut:
    """开立预付金账簿（保险公司×医院×年度）/ open a prepaid-fund book (insurer × hospital × year)."""
    return service.create_book(session, principal, data)


@router.get("/ledger/books", response_model=Page[LedgerBookOut])
def list_books(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    hospital_id: str | None = None,
    year: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LedgerBookOut]:
    return service.list_books(session, principal, hospital_id, year, limit, offset)


@router.get("/ledger/books/{book_id}", response_model=LedgerBookOut)
def get_book(
    book_id: str, session: SessionDep, principal: Principal = require(Perm.CLAIM_READ)
) -> LedgerBookOut:
    return service.get_book(session, principal, book_id)


@router.post(
    "/ledger/books/{book_id}/entries", response_model=JournalOut, status_code=status.HTTP_201_CREATED
)
def post_entry(
    book_id: str, data: LedgerEntryIn, session: SessionDep, principal: Principal = require(Perm.CLAIM_MANAGE)
) -> JournalOut:
    """预付、追加、收回或期间结算（按 reference 幂等）/ deposit, top up, claw back or settle a period."""
    return service.post_entry(session, principal, book_id, data)


@router.get("/ledger/books/{book_id}/entries", response_model=Page[JournalOut])
def list_journal(
    book_id: str,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[JournalOut]:
    return service.list_journal(session, principal, book_id, limit, offset)


@router.get("/alerts", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    open_only: bool = True,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AlertOut]:
    """预付金预警 / low-balance and overdraw alerts."""
    return service.list_alerts(session, principal, open_only, limit, offset)


# ------------------------------------------------------------------------------------------------ reconciliation


@router.post("/reconciliations", response_model=ReconRunOut, status_code=status.HTTP_201_CREATED)
def reconcile(
    data: ReconFileIn,
    response: Response,
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_SETTLE),
) -> ReconRunOut:
    """医院日对账：逐笔核对，合计仅作报告；同一文件重复（或同时）提交答复同一对账记录 / daily reconciliation:
    every record compared; 201 new run, 200 + `Idempotent-Replayed: true` for the same file again."""
    run, replayed = service.reconcile_file(session, principal, data)
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers[REPLAYED] = "true"
    return run


@router.get("/reconciliations", response_model=Page[ReconRunOut])
def list_reconciliations(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_READ),
    business_date: dt.date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ReconRunOut]:
    return service.list_runs(session, principal, business_date, limit, offset)


@router.get("/reconciliations/{run_id}", response_model=ReconRunOut)
def get_reconciliation(
    run_id: str, session: SessionDep, principal: Principal = require(Perm.CLAIM_READ)
) -> ReconRunOut:
    return service.get_run(session, principal, run_id)


# ------------------------------------------------------------------------------------------------ reports


@router.get("/reports/payouts", response_model=ReportOut)
def report(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_REPORT),
    by: str = "insurer",
    month_from: str | None = None,
    month_to: str | None = None,
) -> ReportOut:
    """赔付金额、件数与赔付率，按保险公司、医院、责任、月份或产品 / payouts, counts and loss ratio."""
    return service.report(session, principal, by, month_from, month_to)


@router.get("/reports/concentration", response_model=ConcentrationOut)
def concentration(
    session: SessionDep,
    principal: Principal = require(Perm.CLAIM_REPORT),
    top: Annotated[int, Query(ge=1, le=500)] = 10,
) -> ConcentrationOut:
    """赔付集中度：前 N 家医院占比与 HHI / concentration of claims in the top hospitals."""
    return service.concentration(session, principal, top)
