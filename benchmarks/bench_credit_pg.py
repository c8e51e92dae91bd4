"""PostgreSQL databases for bench_credit_card.py's `--postgres`: the loaded database is the template of a fresh
copy per batch run (`CREATE DATABASE ... TEMPLATE`, a file copy: seconds, not a reload)."""

from __future__ import annotations

import psycopg
from sqlalchemy import make_url


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, password=u.password,
        dbname="postgres", autocommit=True,
    )  # fmt: skip


def _name(url: str) -> str:
    name = make_url(url).database or ""
    assert name.replace("_", "").isalnum(), name  # pasted into DDL below
    return name


def copy_url(url: str, suffix: str) -> str:
    return make_url(url).set(database=f"{_name(url)}_{suffix}").render_as_string(hide_password=False)


def drop(url: str) -> None:
    with _admin(url) as con:
        con.execute(f"DROP DATABASE IF EXISTS {_name(url)} WITH (FORCE)")


def recreate(url: str) -> None:
    drop(url)
    with _admin(url) as con:
        con.execute(f"CREATE DATABASE {_name(url)}")


def copy(url: str, suffix: str) -> str:
    """A fresh copy of the database at `url` (which nobody may be connected to), named `<name>_<suffix>`."""
    target = copy_url(url, suffix)
    drop(target)
    with _admin(url) as con:
        con.execute(f"CREATE DATABASE {_name(target)} TEMPLATE {_name(url)}")
    return target
