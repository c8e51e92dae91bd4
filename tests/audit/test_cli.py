"""`jinyu audit verify|search` against a throwaway SQLite store configured through JINYU_* variables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.audit import service
from jinyu.audit.cli import app
from jinyu.audit.models import AuditEntry
from jinyu.config import get_settings
from jinyu.core import cli_kit, db, runtime
from jinyu.models import metadata
from tests.audit.factories import principal

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        for action in ("party.org.read", "party.user.read", "consent.grant"):
            service.record(s, principal("banker"), action=action, subject_type="thing", subject_ids=["x-1"])
    yield factory
    engine.dispose()
    get_settings.cache_clear()


def _actions(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_verify_prints_an_intact_chain_and_records_the_console(store: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["verify"])

    assert result.exit_code == 0, result.output
    assert "审计链完整" in result.stdout and "3" in result.stdout
    with store() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (last.action, last.actor_id, last.outcome) == ("audit.verify", "system", "ok")


def test_verify_json(store: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["verify", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["ok"], body["checked"], body["head_seq"], body["problem"]) == (True, 3, 3, None)


def test_broken_chain_exits_1_naming_the_first_bad_entry(store: sessionmaker[Session]) -> None:
    with db.transaction(store) as s:
        s.execute(text("DELETE FROM audit_entries WHERE seq = 2"))

    result = runner.invoke(app, ["verify", "--json"])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_seq"] == 2
    assert "seq 2" in result.stderr and "removed" in result.stderr
    assert _actions(store)[-1] == "audit.verify"  # recorded although the command failed


def test_search_json_with_filters(store: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["search", "--action", "party.*", "--limit", "1", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [e["action"] for e in body["items"]] == ["party.user.read"]
    assert body["next_cursor"] == "2"
    assert _actions(store)[-1] == "audit.search"


def test_search_prints_a_table(store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_kit.console, "width", 200)  # a real terminal, not the runner's 80 columns
    result = runner.invoke(app, ["search", "--subject-id", "x-1", "--limit", "2"])

    assert result.exit_code == 0, result.output
    assert "consent.grant" in result.stdout and "--cursor 2" in result.stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--limit", "501"], "limit"), (["--since", "yesterday"], "since"), (["--outcome", "maybe"], "outcome")],
)
def test_search_rejects_bad_options_readably(
    store: sessionmaker[Session], args: list[str], field: str
) -> None:
    result = runner.invoke(app, ["search", *args])

    assert result.exit_code == 1
    assert "错误 / error" in result.stderr and field in result.stderr


def test_help_is_chinese_first_with_an_example() -> None:
    for command in ("verify", "search", "checkpoint", "checkpoints", "public-key"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "示例 / example" in result.stdout and "jinyu audit" in result.stdout


# ---------------------------------------------------------------------------------------------- checkpoints


def test_checkpoint_signs_the_head_into_the_data_dir(store: sessionmaker[Session], tmp_path: Path) -> None:
    result = runner.invoke(app, ["checkpoint", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["n"], body["seq"], len(body["hash"]), len(body["sig"]) > 0) == (1, 3, 64, True)
    line = json.loads((tmp_path / "audit" / "checkpoints.jsonl").read_text())
    assert (line["seq"], line["hash"], line["sig"]) == (3, body["hash"], body["sig"])
    assert (tmp_path / "keys" / "audit_checkpoint_ed25519.pem").stat().st_mode & 0o777 == 0o600
    assert _actions(store)[-1] == "audit.checkpoint"

    listed = runner.invoke(app, ["checkpoints", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [c["seq"] for c in json.loads(listed.stdout)["items"]] == [3]


def test_a_verifier_with_the_printed_public_key_alone(
    store: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["checkpoint"]).exit_code == 0
    printed = runner.invoke(app, ["public-key"])
    assert printed.exit_code == 0 and printed.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "cp.pub.pem").write_text(printed.stdout)
    monkeypatch.setenv("JINYU_AUDIT_CHECKPOINT_PUBLIC_KEY", str(tmp_path / "cp.pub.pem"))
    monkeypatch.setenv("JINYU_AUDIT_CHECKPOINT_KEY", str(tmp_path / "not-here.pem"))
    get_settings.cache_clear()

    result = runner.invoke(app, ["verify", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["checkpoint"]["n"] == 1
    assert not (tmp_path / "not-here.pem").exists()


def test_verify_refuses_a_tail_cut_below_the_checkpoint(store: sessionmaker[Session]) -> None:
    assert runner.invoke(app, ["checkpoint"]).exit_code == 0  # pins seq 3; the command itself is seq 4
    with db.transaction(store) as s:
        s.execute(text("DELETE FROM audit_entries WHERE seq > 2"))
        s.execute(
            text("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_entries WHERE seq = 2)")
        )

    result = runner.invoke(app, ["verify"])

    assert result.exit_code == 1
    assert "shorter than signed checkpoint #1" in result.stderr and "seq 3" in result.stderr


def test_checkpoints_exit_1_on_a_tampered_file(store: sessionmaker[Session], tmp_path: Path) -> None:
    assert runner.invoke(app, ["checkpoint"]).exit_code == 0
    sink = tmp_path / "audit" / "checkpoints.jsonl"
    sink.write_text(sink.read_text().replace('"seq":3', '"seq":2'))

    result = runner.invoke(app, ["checkpoints"])

    assert result.exit_code == 1
    assert "checkpoint #1 (line 1)" in result.stderr and "signature invalid" in result.stderr
    verified = runner.invoke(app, ["verify"])
    assert verified.exit_code == 1 and "signature invalid" in verified.stderr


def test_checkpoint_of_an_empty_trail_is_refused_readably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    metadata.create_all(runtime.engine_for(url))
    try:
        result = runner.invoke(app, ["checkpoint"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1 and "the trail is empty" in result.stderr
