"""Operational store kit: declarative base, portable column types, engine and session factories.

Dialect-specific bits (SQLite pragmas, PostgreSQL row locks) live here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar
from typing import cast as typed

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    Numeric,
    String,
    cast,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, configure_mappers, sessionmaker
from sqlalchemy.types import TypeDecorator

from jinyu.core.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Column info of every column that stores a keyed pseudonym (`core.privacy.pseudonymize`): a key rotation
# (`jinyu keys rotate`) finds and re-tokenizes them through the metadata, without importing their domains.
PSEUDONYM: dict[str, object] = {"pseudonym": True}


Model = TypeVar("Model", bound=Base)


def detached(model: type[Model], **values: Any) -> Model:
    """A new model object holding `values`, built the way the ORM's loader builds objects: the constructor fires
    a change event per attribute to record history that rows written with Core statements never use (~30 per
    settlement row, ~5 % of a settlement's CPU with the audit entry's). Not in any session; `session.add` still
    inserts it with these values. Attributes not given read as None, as after the constructor."""
    mapper = model.__mapper__
    if not mapper.configured:  # as the constructor would (a fresh process's first object)
        configure_mappers()
    obj = typed(Model, mapper.class_manager.new_instance())
    obj.__dict__.update(values)
    return obj


def column_values(obj: Any) -> dict[str, Any]:
    """Every column of a model object as {column key: value}, as `getattr` per column reads them, for a Core
    INSERT of an object built in memory (`detached`).

    Values set on the object are read from its `__dict__`; the attribute is asked only for a column not set
    there (None for an object in no session). Why: each instrumented attribute read is a Python call, and a
    settlement's row and audit entry read ~50 of them (~4 % of the settling thread's CPU, issue 20)."""
    values = obj.__dict__
    return {key: values[key] if key in values else getattr(obj, key) for key in _column_keys(type(obj))}


_COLUMN_KEYS: dict[type[Any], tuple[str, ...]] = {}


def _column_keys(model: type[Any]) -> tuple[str, ...]:
    keys = _COLUMN_KEYS.get(model)
    if keys is None:
        keys = _COLUMN_KEYS[model] = tuple(c.key for c in model.__table__.columns)
    return keys


# Row ids are random version-4 UUIDs (32 hex digits) from the operating system's CSPRNG, read 4 KiB at a time
# per thread. Why not uuid.uuid4() per id: os.urandom releases the GIL around its system call, and a thread that
# releases it waits to get it back while the event loop holds it — the settlement thread makes ~16 ids per
# settlement, each one a chance to stall behind the event loop (a py-spy profile put 4 % of that thread there).
_ID_BYTES = 16
_ID_POOL_BYTES = 4096
_pool = threading.local()


def new_id() -> str:
    buffer: bytes | None = getattr(_pool, "buffer", None)
    offset: int = getattr(_pool, "offset", _ID_POOL_BYTES)
    if buffer is None or offset >= _ID_POOL_BYTES:
        buffer, offset = os.urandom(_ID_POOL_BYTES), 0
        _pool.buffer = buffer
    raw = bytearray(buffer[offset : offset + _ID_BYTES])
    _pool.offset = offset + _ID_BYTES
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def _forget_ids_after_fork() -> None:
    """A forked child must not hand out the ids its parent's buffer still holds."""
    _pool.__dict__.clear()


os.register_at_fork(after_in_child=_forget_ids_after_fork)


IdColumn = String(32)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (stored naive UTC) and PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)


class Money(TypeDecorator[Decimal]):
    """NUMERIC(18,2) yuan; SQLite keeps it exact as text-backed Decimal."""

    impl = Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def fen_sum(column: Any) -> ColumnElement[int]:
    """SUM of a Money column as whole fen (BIGINT), exact on both databases.

    SQLite stores Money as text and SUM() adds it in floating point; rounding each value to whole fen first
    makes every addend an exact integer (for amounts up to 10^12 yuan each, where a double still resolves a
    thousandth of a fen). PostgreSQL computes the same in NUMERIC."""
    return func.sum(cast(func.round(column * 100), BigInteger))


def yuan_of_fen(value: Any) -> Decimal:
    """A `fen_sum` result as yuan (0.00 for an empty sum)."""
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # At most 30 connections per process; the app keeps more worker threads than that (see jinyu.app).
    engine = create_engine(url, pool_size=10, max_overflow=20, json_deserializer=json_loads)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# An integer literal of 19 digits or more may not fit orjson's 64 bits (it would read it as a float); a run of
# 19 digits anywhere (in a string, too) sends the document to the json module.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """A `json`/`jsonb` column's value as the json module reads it, mostly by orjson (the engine's psycopg
    loader; the json module's was ~2 % of a settling thread, docs/claims.md h-br).

    orjson reads every document it accepts to the same objects as `json.loads` (dicts, lists, str, int,
    float, bool, None; the last of duplicate keys), except integers beyond 64 bits, which it makes floats:
    a document with 19 digits in a row goes to the json module, as does anything orjson refuses (a lone
    surrogate escape, a number beyond a double's range, nesting deeper than 1024) — same objects or the
    same error as before."""
    if isinstance(data, str):
        data = data.encode()
    elif isinstance(data, memoryview):
        data = bytes(data)
    if _LONG_DIGITS.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


# A connection idle for longer than this is tested before it is handed out (the server may have restarted or
# closed it); one in steady use is not. SQLAlchemy's pool_pre_ping tests every checkout: a round trip per
# request, about 4 % of an instant settlement's CPU.
PING_AFTER_IDLE_SECONDS = 5.0
_CHECKED_IN_AT = "jinyu_checked_in_at"


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get(_CHECKED_IN_AT)
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return  # new, or in steady use
    try:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        # The driver began a transaction for the ping; end it, or the caller would get a connection already
        # inside one (its BEGIN time the ping's, and no way to switch it to autocommit for VACUUM). By COMMIT,
        # not ROLLBACK: psycopg forgets every statement it prepared on the connection at a rollback (and sends
        # DEALLOCATE ALL), so each read and write of the settlement path would be parsed and planned again for
        # its next five runs. The ping wrote nothing: committing it ends it the same way (issue 20, h-bu).
        dbapi_conn.commit()
    except Exception as exc:  # any failure: let the pool replace it (it retries with a new connection)
        raise DisconnectionError(str(exc)) from exc


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite delays BEGIN until the first write, so savepoints and "read then write" would escape the
    # transaction; take over transaction control and emit BEGIN ourselves (SQLAlchemy's documented recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE: a transaction takes SQLite's write lock when it begins, waiting for it (busy_timeout) behind
    # the transaction holding it. Nearly every unit of work here writes (an audit entry at least) after reading;
    # a deferred transaction that read first cannot wait for the lock when it comes to write — SQLite answers
    # "database is locked" at once, because its snapshot may be stale. Taken at the start, concurrent requests
    # queue instead of failing. (PostgreSQL, the production store, has row locks and needs none of this.)
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work at a boundary: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_for_update(dialect_name: str) -> bool:
    """Row locks exist on PostgreSQL; SQLite serialises writers itself."""
    return dialect_name == "postgresql"
