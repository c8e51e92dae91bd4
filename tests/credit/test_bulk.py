"""The batch path (set-based SQL sections, credit/bulk.py) against the single-card builder (rules.build_card).

Two independent implementations of the indicators: the SQL statements and the Python rules must give the same
canonical bytes for every section of every enterprise of a synthetic region (loaded through ingestion), and the
golden cards of the tiny hand-made region. Batch snapshots then share versions with single cards, and a batch
killed half-way (`kill -9`) resumes without a second version of anything.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.cli import app
from jinyu.config import Settings, get_settings, load_settings
from jinyu.consent.rules import Purpose
from jinyu.core.auth import SYSTEM, OrgKind, Perm, Principal, Role
from jinyu.core.runtime import unit_of_work
from jinyu.credit import batch, bulk, digest, queries, service
from jinyu.credit import repository as repo
from jinyu.credit.models import CardSnapshot
from jinyu.credit.rules import SECTIONS, build_card
from jinyu.ingest import service as ingest
from jinyu.migrate import upgrade
from jinyu.synth import generate
from tests.credit import region

GOLDEN = Path(__file__).parent / "golden"
OPERATOR = replace(SYSTEM, perms=SYSTEM.perms | {Perm.CREDIT_CARD_READ})
CARD_DATASETS = (
    "enterprises", "shareholders", "tax_monthly", "headcount_monthly", "patents", "judicial",
    "registration_changes", "tax_credit_ratings", "trademarks", "copyrights", "dishonest_debtors",
    "admin_penalties", "source_coverage",
)  # fmt: skip


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic region (300 enterprises) ingested into a data dir (SQLite, lake): kept pristine,
    each test works on a copy."""
    base = tmp_path_factory.mktemp("bulk")
    generate(base / "region", "small", 7, progress=False)
    settings = load_settings(data_dir=base / "data")
    upgrade(settings)
    stores = ingest.Stores(
        lake=Lake(settings.lake_dir),
        quarantine_dir=settings.data_dir / "quarantine",
        pseudonym_key=settings.key("pseudonym_key"),
        quarantine_key=settings.key("quarantine_key"),
    )
    for dataset in CARD_DATASETS:
        path = next(
            p
            for p in (base / "region" / f"{dataset}.parquet", base / "region" / f"{dataset}.csv")
            if p.exists()
        )
        with unit_of_work(settings) as session:
            ingest.ingest(session, SYSTEM, dataset, path, stores)
    return base / "data"


@pytest.fixture
def settings(loaded: Path, tmp_path: Path) -> Settings:
    shutil.copytree(loaded, tmp_path / "data")
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine(settings.lake_dir)
    yield eng
    eng.close()


def _named(rows: Iterator[tuple[str, tuple[str, ...]]]) -> dict[str, dict[str, str]]:
    return {uscc: dict(zip(SECTIONS, texts, strict=True)) for uscc, texts in rows}


def test_bulk_sections_are_the_single_card_builders_bytes(engine: DuckDBEngine) -> None:
    texts = _named(bulk.section_texts(engine))
    facts = dict(queries.all_card_facts(engine))
    assert len(texts) > 250 and set(texts) == set(facts)
    differing = [
        (uscc, name)
        for uscc, rows in facts.items()
        for name, encoded in digest.section_bytes(build_card(uscc, "x", rows)["sections"]).items()
        if texts[uscc][name].encode("utf-8") != encoded
    ]
    assert differing == []
    # The region exercises what the SQL must get right: every status, and lists cut at ten items.
    statuses = {json.loads(t[s])["status"] for t in texts.values() for s in SECTIONS}
    assert statuses == {"ok", "no_data"}
    assert any(
        len(json.loads(t["tax"])["data"]["months"]) == 24 for t in texts.values() if '"ok"' in t["tax"]
    )


def test_single_card_statement_agrees_for_a_sample(engine: DuckDBEngine) -> None:
    """The per-card facts statement (the path a plain engine serves cards from) on a sample of enterprises."""
    texts = _named(bulk.section_texts(engine))
    for uscc in sorted(texts)[::37]:
        card = build_card(uscc, "x", queries.card_facts(engine, uscc))
        assert {s: t.encode() for s, t in texts[uscc].items()} == digest.section_bytes(card["sections"])


def test_bulk_gives_the_golden_cards(tmp_path: Path) -> None:
    """The tiny region whose indicators test_rules.py works out by hand."""
    region.load(tmp_path / "lake")
    eng = DuckDBEngine(tmp_path / "lake")
    try:
        texts = _named(bulk.section_texts(eng))
    finally:
        eng.close()
    for name in ("E1", "E2"):
        golden = json.loads((GOLDEN / f"card-{name}.json").read_text(encoding="utf-8"))
        got = texts[getattr(region, name)]
        assert {s: got[s].encode() for s in SECTIONS} == digest.section_bytes(golden["sections"])


def test_batch_versions_are_the_single_cards_versions(settings: Settings, engine: DuckDBEngine) -> None:
    with unit_of_work(settings) as session:
        first = batch.snapshot_all(session, OPERATOR, engine, batch_size=64)
    assert first.created == first.enterprises > 250 and first.unchanged == first.skipped_unregistered == 0
    with unit_of_work(settings) as session:
        for uscc in sorted(repo.latest_keys(session))[::29]:
            stored = repo.latest(session, uscc)
            assert stored is not None and stored.version == 1
            # Showing the card builds it the single-card way: same content key, so the batch's version stands.
            again = service.current_snapshot(session, OPERATOR, engine, uscc, stored.enterprise_org_id, "x")
            assert again.id == stored.id
            service._verify(again)  # the stored JSON reads back to the hashed bytes
    with unit_of_work(settings) as session:
        second = batch.snapshot_all(session, OPERATOR, engine)
    assert (second.created, second.unchanged) == (0, first.enterprises)


REGULATOR = Principal(
    subject_id="reg", username="reg", org_id="reg-org", org_kind=OrgKind.REGULATOR, tenant_id="reg-org",
    org_path="/reg/", roles=frozenset({Role.REGULATOR_ANALYST}),
)  # fmt: skip


def test_the_card_shown_is_the_batch_snapshot(settings: Settings, engine: DuckDBEngine) -> None:
    """After a batch, the card the service renders (JSON as the API sends it) is the stored snapshot: same
    version and hashes, each section's {status, source, data} the batch's text byte for byte, and its salted
    hash checks against the rendered section as a bank would check it."""
    texts = _named(bulk.section_texts(engine))
    with unit_of_work(settings) as session:
        made = batch.snapshot_all(session, OPERATOR, engine)
    assert made.created == len(texts)
    with unit_of_work(settings) as session:
        for uscc in sorted(texts)[::23]:
            stored = repo.latest(session, uscc)
            assert stored is not None
            shown = service.card(session, REGULATOR, engine, uscc, Purpose.CREDIT_ASSESSMENT)
            out = shown.model_dump(mode="json")
            assert (out["snapshot"]["version"], out["snapshot"]["content_hash"]) == (1, stored.content_hash)
            assert list(out["sections"]) == list(SECTIONS) and out["withheld"] == []
            for name, section in out["sections"].items():
                body = {k: section[k] for k in ("status", "source", "data")}
                assert body == stored.sections[name]
                assert digest.canonical(body) == texts[uscc][name].encode("utf-8")
                assert digest.section_hash(section["salt"], digest.canonical(body)) == section["section_hash"]
            hashes = {n: s["section_hash"] for n, s in out["sections"].items()}
            assert digest.snapshot_hash(stored.card_format, uscc, 1, hashes) == stored.content_hash
        # Showing cards wrote no new version.
        assert session.scalar(select(func.count()).select_from(CardSnapshot)) == len(texts)


_KILLED_RUN = """
import os, signal, sys
from dataclasses import replace
from pathlib import Path
from jinyu.analytics import DuckDBEngine
from jinyu.config import load_settings
from jinyu.consent.rules import Purpose
from jinyu.core.auth import SYSTEM, OrgKind, Perm, Principal, Role
from jinyu.core.runtime import unit_of_work
from jinyu.credit import batch

settings = load_settings(data_dir=Path(sys.argv[1]))
commits = []

with unit_of_work(settings) as session:
    def checkpoint():
        session.commit()
        commits.append(1)
        if len(commits) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no rollback handlers: as kill -9 from outside

    operator = replace(SYSTEM, perms=SYSTEM.perms | {Perm.CREDIT_CARD_READ})
    batch.snapshot_all(session, operator, DuckDBEngine(settings.lake_dir), batch_size=50, checkpoint=checkpoint)
"""


def test_a_killed_batch_resumes_without_duplicates(settings: Settings, engine: DuckDBEngine) -> None:
    killed = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(settings.data_dir)], check=False)
    assert killed.returncode == -signal.SIGKILL
    with unit_of_work(settings) as session:
        assert session.scalar(select(func.count()).select_from(CardSnapshot)) == 100  # two batches committed
        rest = batch.snapshot_all(session, OPERATOR, engine, batch_size=50, checkpoint=session.commit)
    assert (rest.created, rest.unchanged) == (rest.enterprises - 100, 100)
    with unit_of_work(settings) as session:
        versions = session.execute(select(CardSnapshot.uscc, CardSnapshot.version)).all()
    assert len(versions) == rest.enterprises
    assert {v for _u, v in versions} == {1} and len({u for u, _v in versions}) == len(versions)


def test_cli_snapshot_all_json_and_rerun(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINYU_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["credit", "snapshot-all", "--json", "--batch-size", "100"])
        assert first.exit_code == 0, first.output
        report = json.loads(first.output)  # --json: nothing but the JSON on stdout (no progress bar)
        assert report["created"] == report["enterprises"] > 250 and report["unchanged"] == 0
        again = CliRunner().invoke(app, ["credit", "snapshot-all"])
        assert again.exit_code == 0, again.output
        assert f"未变 / unchanged {report['enterprises']}" in again.output
        bad = CliRunner().invoke(app, ["credit", "snapshot-all", "--batch-size", "0"])
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
