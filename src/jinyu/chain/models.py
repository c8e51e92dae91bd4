"""Tables the chain domain owns: the regulator's versions of chain definitions (append-only).

A chain's definition is the highest version here, or the shipped `data/chains.json` entry (version 0) while it
has none. An edit inserts version n + 1; the unique (chain_code, version) key makes two editors who both read
version n collide, and the later one is answered 409."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import Base, IdColumn, UTCDateTime, new_id


class ChainDefinitionVersion(Base):
    __tablename__ = "chain_definition_versions"
    __table_args__ = (UniqueConstraint("chain_code", "version"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    chain_code: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # name, name_en, chief_bank_name, segments [{code, name, name_en, industries}], overrides {uscc: segment}
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
