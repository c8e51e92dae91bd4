"""The regulator's chain definitions: read the current version, edit it (versioned, audited, 409 on a stale
edit, 422 with field errors), set or remove one enterprise's segment override.

The current definition of a chain is its highest version in `chain_definition_versions`, else the shipped
`data/chains.json` entry (version 0). Only shipped chains exist; their business parameters stay in the file.
Takes the session first, then the principal; never commits (the boundary does)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.chain import definition_rules, definitions
from jinyu.chain.definitions import ChainDef
from jinyu.chain.errors import StaleDefinition
from jinyu.chain.models import ChainDefinitionVersion
from jinyu.chain.schemas import (
    ChainDefinitionIn,
    ChainDefinitionOut,
    DefinitionVersionOut,
    SegmentDefOut,
    SegmentOverrideIn,
)
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import InvalidInput, invalid
from jinyu.core.ids import validate_uscc


def _latest(session: Session, code: str) -> ChainDefinitionVersion | None:
    stmt = (
        select(ChainDefinitionVersion)
        .where(ChainDefinitionVersion.chain_code == code)
        .order_by(ChainDefinitionVersion.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def current(session: Session, code: str) -> tuple[ChainDef, dict[str, str]]:
    """The chain as now defined and its segment overrides {USCC: segment}; 404 for an unknown chain."""
    shipped = definitions.load().chain(code)
    row = _latest(session, code)
    if row is None:
        return shipped, {}
    return definition_rules.chain_of(code, row.body), dict(row.body.get("overrides") or {})


def current_all(session: Session) -> list[ChainDef]:
    return [current(session, c.code)[0] for c in definitions.load().chains]


def _out(
    code: str, chain: ChainDef, overrides: dict[str, str], row: ChainDefinitionVersion | None
) -> ChainDefinitionOut:
    return ChainDefinitionOut(
        chain_code=code,
        version=row.version if row else 0,
        name=chain.name,
        name_en=chain.name_en,
        chief_bank_name=chain.chief_bank_name,
        segments=[
            SegmentDefOut(code=s.code, name=s.name, name_en=s.name_en, industries=list(s.industries))
            for s in chain.segments
        ],
        overrides=overrides,
        note=row.note if row else "",
        updated_by=row.created_by if row else None,
        updated_at=row.created_at if row else None,
    )


def get_definition(session: Session, principal: Principal, code: str) -> ChainDefinitionOut:
    principal.require(Perm.CHAIN_READ)
    chain, overrides = current(session, code)
    audit.record(session, principal, action="chain.definition.read", subject_type="chain", subject_ids=[code])
    return _out(code, chain, overrides, _latest(session, code))


def history(session: Session, principal: Principal, code: str) -> list[DefinitionVersionOut]:
    principal.require(Perm.CHAIN_READ)
    definitions.load().chain(code)
    stmt = (
        select(ChainDefinitionVersion)
        .where(ChainDefinitionVersion.chain_code == code)
        .order_by(ChainDefinitionVersion.version.desc())
    )
    rows = session.scalars(stmt).all()
    audit.record(
        session, principal, action="chain.definition.history", subject_type="chain", subject_ids=[code]
    )
    return [
        DefinitionVersionOut(version=r.version, note=r.note, created_by=r.created_by, created_at=r.created_at)
        for r in rows
    ]


def _save(
    session: Session, principal: Principal, code: str, expected: int, body: dict[str, Any], note: str
) -> ChainDefinitionOut:
    """Checks the edit against the version it started from and appends version n + 1."""
    problems = definition_rules.problems(body)
    if problems:
        raise InvalidInput(fields=problems)
    row = _latest(session, code)
    now = row.version if row else 0
    if expected != now:
        raise StaleDefinition(detail=f"read version {expected}, current version {now}")
    new = ChainDefinitionVersion(
        chain_code=code, version=now + 1, body=body, note=note, created_by=principal.username
    )
    try:
        with session.begin_nested():  # two editors of the same version: the unique key lets one through
            session.add(new)
    except IntegrityError as exc:
        raise StaleDefinition(detail=f"version {now + 1} was written by someone else") from exc
    audit.record(
        session,
        principal,
        action="chain.definition.edit",
        subject_type="chain",
        subject_ids=[code],
        detail={"version": new.version, "from_version": now, "note": note},
    )
    return _out(code, definition_rules.chain_of(code, body), dict(body["overrides"]), new)


def edit(session: Session, principal: Principal, code: str, data: ChainDefinitionIn) -> ChainDefinitionOut:
    principal.require(Perm.CHAIN_DEFINE)
    definitions.load().chain(code)
    body = data.model_dump(exclude={"version", "note"})
    body["overrides"] = dict(sorted(body["overrides"].items()))
    return _save(session, principal, code, data.version, body, data.note)


def set_segment(
    session: Session, principal: Principal, code: str, uscc: str, data: SegmentOverrideIn
) -> ChainDefinitionOut:
    """Puts one enterprise in a segment (or, with segment null, back to the dataset's assignment)."""
    principal.require(Perm.CHAIN_DEFINE)
    chain, overrides = current(session, code)
    uscc = validate_uscc(uscc)
    if data.segment is None:
        if uscc not in overrides:
            raise invalid("segment", "该企业没有改派环节 / the enterprise has no override to remove")
        overrides.pop(uscc)
    elif data.segment not in chain.segment_codes:
        raise invalid("segment", f"应为 / must be one of {', '.join(chain.segment_codes)}")
    else:
        overrides[uscc] = data.segment
    return _save(
        session, principal, code, data.version, definition_rules.body_of(chain, overrides), data.note
    )
