"""Migration 0005 (one settlement in force per visit) on a database that already has settlements (SQLite):
it refuses, naming the visits, while a visit has two in force, and goes through once one is cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from jinyu.config import load_settings
from jinyu.core.db import make_engine
from jinyu.migrate import upgrade

_INSERT = text(
    "INSERT INTO claim_settlements (id, channel, status, hospital_id, person_token, id_masked, mdtrt_id, "
    "setl_id, msg_id, request_hash, setl_time, business_date, medfee_sumamt, funds, acct_pay, cash_before, "
    "payout, cash_after, bill, result, funding, note, created_at) VALUES (:id, 'direct', :status, 'H1', 'p', "
    "'m', 'V1', :setl, :setl, 'h', '2025-06-01 02:30:00', '2025-06-01', 1, 0, 0, 1, 0, 1, '{}', '{}', '{}', "
    "'', '2025-06-01 02:30:00')"
)


def test_migration_0005_refuses_two_settlements_in_force_of_a_visit(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    upgrade(settings, "0004")
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(_INSERT, [{"id": "a", "status": "settled", "setl": "S1"}])
        conn.execute(_INSERT, [{"id": "b", "status": "pending", "setl": "S2"}])
    with pytest.raises(RuntimeError, match=r"\(H1, V1\)"):
        upgrade(settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE claim_settlements SET status = 'cancelled' WHERE id = 'a'"))
    upgrade(settings)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT interim FROM claim_settlements ORDER BY id")).scalars().all() == [
            0,
            0,
        ]
        with pytest.raises(IntegrityError):
            conn.execute(_INSERT, [{"id": "c", "status": "settled", "setl": "S3"}])
    engine.dispose()
