"""Snapshots are immutable in the database itself (migration 0017): a raw UPDATE or DELETE of a snapshot row
fails on SQLite and on PostgreSQL, while inserting the next version still works."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from jinyu.config import load_settings
from jinyu.core.auth import SYSTEM, OrgKind
from jinyu.core.db import make_engine
from jinyu.credit import repository as repo
from jinyu.credit.batch import encoded_row
from jinyu.credit.rules import SECTIONS as NAMES
from jinyu.credit.service import _verify, snapshot_row
from jinyu.migrate import upgrade
from tests.fixtures.auth import make_org
from tests.fixtures.database import _create_pg_database, _drop_pg_database

SECTIONS = {s: {"status": "no_data", "source": {"bureau": None, "as_of": None}, "data": None} for s in NAMES}
ENCODED = {s: b"{}" for s in NAMES}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database built by the migrations (not by create_all): what production runs on."""
    if request.param == "sqlite":
        settings = load_settings(data_dir=tmp_path)
        upgrade(settings)
        engine = make_engine(settings.resolved_database_url)
        yield engine
        engine.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("PostgreSQL unavailable / 无 PostgreSQL")
    name, url = _create_pg_database(server)
    try:
        upgrade(load_settings(data_dir=tmp_path, database_url=url))
        engine = make_engine(url)
        yield engine
        engine.dispose()
    finally:
        _drop_pg_database(server, name)


def _snapshot(engine: Engine) -> str:
    with Session(engine) as session, session.begin():
        org = make_org(session, OrgKind.ENTERPRISE)
        assert org.uscc is not None
        row = snapshot_row(org.uscc, org.id, 1, SECTIONS, ENCODED, "k" * 64, SYSTEM)
        repo.insert_snapshots(session, [row])
        return str(row["id"])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE credit_card_snapshots SET content_hash = 'forged' WHERE id = :id",
        "UPDATE credit_card_snapshots SET sections = '{}' WHERE id = :id",
        "DELETE FROM credit_card_snapshots WHERE id = :id",
    ],
)
def test_raw_update_or_delete_of_a_snapshot_fails(migrated: Engine, statement: str) -> None:
    snap_id = _snapshot(migrated)
    with pytest.raises(DatabaseError, match="immutable"), migrated.begin() as conn:
        conn.execute(text(statement), {"id": snap_id})
    with migrated.connect() as conn:
        hashes = conn.execute(
            text("SELECT content_hash FROM credit_card_snapshots WHERE id = :id"), {"id": snap_id}
        ).scalars()
        assert [len(h) for h in hashes] == [64]  # still there, and not the forged value


def test_inserting_the_next_version_still_works(migrated: Engine) -> None:
    _snapshot(migrated)
    with Session(migrated) as session, session.begin():
        org = make_org(session, OrgKind.ENTERPRISE)
        assert org.uscc is not None
        for version in (1, 2):
            repo.insert_snapshots(
                session,
                [snapshot_row(org.uscc, org.id, version, SECTIONS, ENCODED, "k" * 64, SYSTEM)],
            )
    with migrated.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM credit_card_snapshots")).scalar_one()
    assert count == 3


# TRUNCATE triggers are PostgreSQL's (SQLite has no TRUNCATE): this test runs on PostgreSQL only.
@pytest.mark.parametrize("migrated", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_truncate_is_refused_on_postgres(migrated: Engine) -> None:
    _snapshot(migrated)
    with pytest.raises(DatabaseError, match="immutable"), migrated.begin() as conn:
        conn.execute(text("TRUNCATE credit_card_snapshots"))


def _in_order(texts: dict[str, str]) -> tuple[str, ...]:
    return tuple(texts[s] for s in NAMES)  # the batch's sections: texts in SECTIONS order


def test_batch_inserts_store_the_sections_text_as_json(migrated: Engine) -> None:
    """The batch writes sections as ready-made JSON text (PostgreSQL: cast to json): it reads back as the
    same values, and the hashes check out."""
    section = (
        '{"data":{"a":"局 \\"引号\\" \\\\ end","n":[1,2]},'
        '"source":{"as_of":"2024-12-31","bureau":"税务局"},"status":"ok"}'
    )
    texts = dict.fromkeys(NAMES, section)
    encoded = {s: t.encode() for s, t in texts.items()}
    with Session(migrated) as session, session.begin():
        org = make_org(session, OrgKind.ENTERPRISE)
        assert org.uscc is not None
        uscc = org.uscc
        repo.insert_encoded_snapshots(
            session, [encoded_row(uscc, org.id, 1, _in_order(texts), encoded, "k" * 64, SYSTEM)]
        )
    with Session(migrated) as session:
        snap = repo.latest(session, uscc)
        assert snap is not None and snap.sections == {s: json.loads(section) for s in NAMES}
        _verify(snap)


def test_batch_rows_store_what_the_single_card_insert_stores(migrated: Engine) -> None:
    """The batch's write (PostgreSQL: COPY; SQLite: a Core executemany) and the single card's ORM INSERT
    store the same salts, section hashes (same JSON text), time and sections."""
    texts = {s: '{"data":null,"source":{"as_of":null,"bureau":"局"},"status":"no_data"}' for s in NAMES}
    encoded = {s: t.encode() for s, t in texts.items()}
    with Session(migrated) as session, session.begin():
        org = make_org(session, OrgKind.ENTERPRISE)
        assert org.uscc is not None
        single = snapshot_row(org.uscc, org.id, 1, {s: json.loads(t) for s, t in texts.items()}, encoded,
                              "k" * 64, SYSTEM)  # fmt: skip
        batch = encoded_row(org.uscc, org.id, 2, _in_order(texts), encoded, "k" * 64, SYSTEM)
        batch |= {k: single[k] for k in ("salts", "section_hashes", "created_at")}
        repo.insert_snapshots(session, [single])
        repo.insert_encoded_snapshots(session, [batch])
    columns = "CAST(salts AS TEXT), CAST(section_hashes AS TEXT), created_at, sections"
    with migrated.connect() as conn:
        stored = conn.execute(text(f"SELECT {columns} FROM credit_card_snapshots ORDER BY version")).all()
    one, two = stored
    assert one[:3] == two[:3]
    assert one[2] is not None
    as_dict = [s if isinstance(s, dict) else json.loads(s) for s in (one[3], two[3])]
    assert as_dict[0] == as_dict[1] == {s: json.loads(t) for s, t in texts.items()}
