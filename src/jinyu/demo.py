"""`jinyu demo`: an empty data dir becomes a running platform on a synthetic region.

Generate the small region → load it through the real ingestion path → create one user per role (random
passwords, written to <data dir>/credentials.json, 0600) → the enterprises whose statements the region ships
(region/statements/) authorise the demo bank to verify them → the sample claims product, funded prepaid books
and enrollments, with discharges for the demo hospital in <data dir>/claims/ (`demo_claims`) → the demo
hospital's system settles a week of discharges and reconciles each day through the API (`demo_hospital`) →
serve the API on 127.0.0.1.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.config import Settings
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.clock import utcnow
from jinyu.core.runtime import sessionmaker_for, unit_of_work
from jinyu.demo_chain import chain_consents
from jinyu.demo_claims import acting, prepare_claims, week_residents
from jinyu.demo_credit import card_enterprises, grant_cards
from jinyu.demo_financing import prepare_financing
from jinyu.demo_hospital import settle_week
from jinyu.governance.contracts import LOAD_ORDER
from jinyu.ingest import service as ingest
from jinyu.load_prepare import after_load, prepare_pages
from jinyu.migrate import upgrade
from jinyu.party import service as party
from jinyu.party.schemas import OrgCreate, OrgOut, ServiceAccountCreate, UserCreate
from jinyu.synth import generate

console = Console()
DEMO_SEED = 20261127
OPERATOR_CODE, REGULATOR_CODE = "JINYU-OPS", "REG-CQ"

# What each demo user finds first on the console (printed by `jinyu demo`; tests/test_demo.py opens each page).
CONSOLE_WALK: tuple[tuple[str, str, str], ...] = (
    ("analyst", "/console/risk", "资金流风险：各银行核查统计 / banks' checks by bank and month"),
    (
        "analyst",
        "/console/claims",
        "理赔统计：按保险公司、医院、责任 / claims by insurer, hospital, liability",
    ),
    ("supervisor", "/console/registrations", "实名注册审核 / registrations waiting for review"),
    ("bank_risk", "/console/loans", "贷款资金核查：上表埋设的贷款 / the planted loans above"),
    ("bank_risk", "/console/statements", "对公流水核验：region/statements/*.csv / the shipped statements"),
    (
        "enterprise",
        "/console/registration",
        "实名注册（演示企业尚未注册）/ register (the demo enterprise is not yet)",
    ),
    ("enterprise", "/console/consents", "数据授权：授权、撤销 / grant and revoke (own banks first)"),
    (
        "hospital",
        "/console/settlements",
        "一周结算、两本预付金账簿、余额预警、五天日对账（一天有差异）/ a week's settlements, two prepaid books, "
        "a balance alert, five daily reconciliations (one with a discrepancy)",
    ),
    (
        "insurer",
        "/console/settlements",
        "本公司账簿余额低于预警线、结算与对账 / its book below the alert line, settlements, reconciliations",
    ),
)


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    role: str
    organisation: str
    org_id: str


def strong_password() -> str:
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(14))
    return f"{body}-{secrets.choice(string.ascii_uppercase)}{secrets.randbelow(10)}a"


def prepare(settings: Settings, *, tracing: bool = True) -> list[Credential]:
    """Everything but serving; safe to re-run (an initialised data dir keeps its data and credentials).
    `tracing`: at the end, build and keep the loan check's resident index and context, and the chain pages'
    answers, for the server's start (False: `jinyu demo --no-prepare`, the server and its visitors build them)."""
    upgrade(settings)
    creds_file = settings.data_dir / "credentials.json"
    if creds_file.exists():
        console.print(f"数据目录已初始化 / data dir already initialised: {settings.data_dir}")
        return [Credential(**c) for c in json.loads(creds_file.read_text())]
    region = settings.data_dir / "region"
    console.print("[bold]1/3[/] 生成小型合成区域 / generating the small synthetic region")
    generate(region, "small", DEMO_SEED, progress=True)
    console.print("[bold]2/3[/] 经正式接入流程加载 / loading through the ingestion path")
    _load_region(settings, region)
    console.print("[bold]3/3[/] 为每个角色创建演示用户 / creating a demo user per role")
    with unit_of_work(settings) as session:
        creds = _create_users(session)
        granted = _statement_consents(session, region, creds)
        cards = _credit_cards(session, settings, region, creds)
        chain_granted = chain_consents(
            session, region, next(c.org_id for c in creds if c.username == "bank_risk")
        )
        hospital = _org(session, OrgKind.HOSPITAL)
        files = prepare_claims(session, settings.pseudonym_keys(), hospital, settings.data_dir / "claims")
        chiefs = _financing(session, region, creds)
    his_key = next(c.password for c in creds if c.username == "svc:his")
    week = settle_week(settings, his_key, week_residents())
    console.print(f"  企业授权演示银行核验流水 / enterprises authorising the demo bank: {granted}")
    console.print(f"  产业链企业授权演示银行批量画像 / chain members authorising portraits: {chain_granted}")
    console.print(
        f"  实名注册并授权演示银行查看信用名片 / enterprises sharing their card: {', '.join(cards)}"
    )
    console.print(
        f"  即时结算样例 / discharges for {hospital.code} to settle: {', '.join(str(f) for f in files)}"
    )
    console.print(
        f"  医院系统经 API 结算一周出院并日对账 / {hospital.code}'s system settled a week over the API: "
        f"{week.settlements} settlements ({week.cancelled} cancelled and settled again), "
        f"¥{week.paid:,.2f} paid, reconciliations " + ", ".join(f"{day} {state}" for day, state in week.runs)
    )
    console.print(
        "  融资对接：客户经理、金融顾问与链长主办行 / financing: managers, consultant, chain chiefs "
        + ", ".join(f"{chain}→{bank}" for chain, bank in chiefs.items())
    )
    if tracing:  # last: the steps above may add to the lake too
        after_load(settings.lake_dir, LOAD_ORDER, console.print)
        prepare_pages(settings.lake_dir, LOAD_ORDER, console.print, sessionmaker_for(settings))
    _write_credentials(creds_file, creds)
    return creds


def _financing(session: Session, region: Path, creds: list[Credential]) -> dict[str, str]:
    """Customer managers at an outlet of each demo bank, a consultant for the demo enterprise and chain chief
    banks (`demo_financing`); the new users join the credentials."""
    by_name = {c.username: c for c in creds}
    operator = party.resolve_org(session, by_name["admin"].org_id)
    banks = [party.resolve_org(session, by_name[n].org_id) for n in ("bank_risk", "bank2_risk")]
    branch = by_name["bank_officer"].org_id
    assert operator is not None and banks[0] is not None and banks[1] is not None
    users, chiefs = prepare_financing(
        session, region, operator, [b for b in banks if b], branch, by_name["enterprise"].org_id
    )
    creds += [Credential(name, pw, role, org.name, org.id) for name, pw, role, org in users]
    return chiefs


def _statement_consents(session: Session, region: Path, creds: list[Credential]) -> int:
    """Each enterprise whose statement ships with the region authorises the demo bank (bank_risk's head
    office, so its branches too) to verify it for a year, as the enterprise would on the platform."""
    labels = region / "statements" / "statements_labels.csv"
    if not labels.exists():
        return 0
    bank_id = next(c.org_id for c in creds if c.username == "bank_risk")
    with labels.open(encoding="utf-8") as fh:
        usccs = sorted({row["enterprise_uscc"] for row in csv.DictReader(fh)})
    grant = GrantCreate(
        grantee_org_id=bank_id,
        scopes=[Scope.STATEMENTS],
        purpose=Purpose.STATEMENT_VERIFICATION,
        valid_until=utcnow() + dt.timedelta(days=365),
    )
    count = 0
    for uscc in usccs:
        org = party.find_enterprise(session, uscc)
        if org is None:
            continue
        consent.grant(session, acting(org, Role.ENTERPRISE_ADMIN), grant)
        count += 1
    return count


def _credit_cards(session: Session, settings: Settings, region: Path, creds: list[Credential]) -> list[str]:
    bank_id = next(c.org_id for c in creds if c.username == "bank_risk")
    enterprise_id = next(c.org_id for c in creds if c.username == "enterprise")
    demo = party.resolve_org(session, enterprise_id)
    usccs = card_enterprises(region, demo.code if demo else "")
    regulator = party.resolve_org(session, next(c.org_id for c in creds if c.username == "supervisor"))
    assert regulator is not None
    supervisor = acting(regulator, Role.REGULATOR_SUPERVISOR)
    return grant_cards(session, region, bank_id, usccs, settings.pseudonym_keys(), supervisor)


def _load_region(settings: Settings, region: Path) -> None:
    stores = ingest.Stores(
        lake=Lake(settings.lake_dir),
        quarantine_dir=settings.data_dir / "quarantine",
        pseudonym_key=settings.pseudonym_keys(),
        quarantine_key=settings.key("quarantine_key"),
    )
    for dataset in LOAD_ORDER:
        path = next(
            (
                p
                for p in (region / f"{dataset}.parquet", region / f"{dataset}.csv", region / dataset)
                if p.exists()
            ),
            None,
        )
        if path is None:
            continue
        with unit_of_work(settings) as session:
            report = ingest.ingest(session, SYSTEM, dataset, path, stores)
        console.print(f"  {dataset:<20} accepted {report.accepted:>8}  rejected {report.rejected:>6}")


def _org(session: Session, kind: OrgKind, nth: int = 0) -> OrgOut:
    page = party.list_orgs(session, SYSTEM, kind.value, None, nth + 1, 0)
    if len(page.items) <= nth:
        raise RuntimeError(f"synthetic region has no {kind.value} #{nth}")
    return page.items[nth]


def _own_org(session: Session, kind: OrgKind, code: str, name: str) -> OrgOut:
    found = party.list_orgs(session, SYSTEM, kind.value, code, 1, 0).items
    return (
        found[0] if found else party.create_org(session, SYSTEM, OrgCreate(kind=kind, code=code, name=name))
    )


def _branch_of(session: Session, head: OrgOut) -> OrgOut:
    for org in party.list_orgs(session, SYSTEM, OrgKind.BANK_BRANCH.value, None, 500, 0).items:
        if org.parent_id == head.id:
            return org
    raise RuntimeError(f"bank {head.code} has no branch")


def _create_users(session: Session) -> list[Credential]:
    operator = _own_org(
        session, OrgKind.OPERATOR, OPERATOR_CODE, "金渝平台运营中心 / Jinyu platform operator"
    )
    regulator = _own_org(
        session, OrgKind.REGULATOR, REGULATOR_CODE, "金融监管局 / regional financial regulator"
    )
    bank, bank2 = _org(session, OrgKind.BANK_HEAD_OFFICE, 0), _org(session, OrgKind.BANK_HEAD_OFFICE, 1)
    plan: list[tuple[str, Role, OrgOut]] = [
        ("admin", Role.PLATFORM_ADMIN, operator),
        ("analyst", Role.REGULATOR_ANALYST, regulator),
        ("supervisor", Role.REGULATOR_SUPERVISOR, regulator),
        ("bank_risk", Role.BANK_HQ_RISK, bank),
        ("bank_officer", Role.BANK_BRANCH_OFFICER, _branch_of(session, bank)),
        ("bank2_risk", Role.BANK_HQ_RISK, bank2),
        ("insurer", Role.INSURER_STAFF, _org(session, OrgKind.INSURER)),
        ("hospital", Role.HOSPITAL_SYSTEM, _org(session, OrgKind.HOSPITAL)),
        ("enterprise", Role.ENTERPRISE_ADMIN, _org(session, OrgKind.ENTERPRISE)),
        ("provider", Role.DATA_PROVIDER, _org(session, OrgKind.BUREAU)),
    ]
    creds = []
    for username, role, org in plan:
        password = strong_password()
        party.create_user(
            session,
            SYSTEM,
            UserCreate(
                username=username,
                display_name=username,
                org_id=org.id,
                roles=[role],
                password=SecretStr(password),
            ),
        )
        creds.append(Credential(username, password, role.value, org.name, org.id))
    hospital = plan[7][2]
    key = (
        party.create_service_account(
            session,
            SYSTEM,
            ServiceAccountCreate(name="his", org_id=hospital.id, roles=[Role.HOSPITAL_SYSTEM]),
        ).api_key
        or ""
    )
    creds.append(Credential("svc:his", key, "hospital_system (X-API-Key)", hospital.name, hospital.id))
    return creds


def _write_credentials(path: Path, creds: list[Credential]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump([c.__dict__ for c in creds], f, ensure_ascii=False, indent=2)
