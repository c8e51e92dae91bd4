"""Ingestion use case: validate a file against its contract, load accepted rows, quarantine the rest.

Idempotent for the same file: the content hash names the load, and a file loaded before returns its first
report. Loads of one dataset run one at a time (a lock row on PostgreSQL). The lake is written before the
database rows (organisations, the load record, the audit entry), so locks are held briefly.

Atomic: the lake files of a load are declared in flight first (analytics/pending.py) and kept only when the
transaction that holds the load record commits; a rollback removes them at once. A process killed at any
point leaves an unlocked intent behind, which `recover` settles before the next load and at start-up (files
of a committed record stay, all others go, with any stray temporary files).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from jinyu.analytics import Lake
from jinyu.analytics.keys import with_keys
from jinyu.analytics.pending import PendingLoad, Recovered
from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.db import new_id, transaction
from jinyu.core.errors import Conflict
from jinyu.core.pagination import Page
from jinyu.core.privacy import Keys
from jinyu.core.pseudokeys import Keyring, reloaded
from jinyu.core.sealed import Sealer
from jinyu.governance import rejections
from jinyu.governance.contracts import CONTRACTS, Contract
from jinyu.ingest import csvfile, pipeline, reader, scope
from jinyu.ingest import repository as repo
from jinyu.ingest.errors import LoadNotFound, UnknownDataset
from jinyu.ingest.models import Load
from jinyu.ingest.parties import MAPPERS, registry_orgs
from jinyu.ingest.schemas import ColumnOut, ContractOut, LoadReport
from jinyu.party import service as party

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Stores:
    """Where a load writes: the lake, the quarantine directory, the pseudonymization key, and the secret that
    seals quarantined rows."""

    lake: Lake
    quarantine_dir: Path
    pseudonym_key: Keys
    quarantine_key: bytes


def contract_for(dataset: str) -> Contract:
    contract = CONTRACTS.get(dataset)
    if contract is None:
        raise UnknownDataset(detail=f"{dataset!r}; 可用 / known: {', '.join(sorted(CONTRACTS))}")
    return contract


def _content_hash(files: list[Path]) -> str:
    if len(files) == 1:
        return reader.sha256_of(files[0])
    return hashlib.sha256("".join(reader.sha256_of(f) for f in files).encode()).hexdigest()


def ingest(
    session: Session,
    principal: Principal,
    dataset: str,
    path: Path,
    stores: Stores,
    progress: Progress | None = None,
    encoding: str = "auto",
) -> LoadReport:
    """Load one file (or directory of parts). `encoding` of CSV files: auto, utf-8, gbk or gb18030."""
    principal.require(Perm.INGEST_RUN)
    contract = contract_for(dataset)
    scope.check_provider(principal, contract)
    encoding = csvfile.encoding_of(encoding)
    files = reader.files_of(path)
    recover(session, stores.lake)
    sha = _content_hash(files)
    repo.lock_dataset(session, dataset)
    earlier = repo.find_by_content(session, dataset, sha)
    if earlier is not None:
        audit.record(
            session,
            principal,
            action="ingest.load",
            subject_type="dataset",
            subject_ids=[dataset, earlier.id],
            detail={"already_loaded": True},
        )
        return LoadReport.model_validate(earlier).model_copy(update={"already_loaded": True})
    # Under the dataset's lock (PostgreSQL) or the database's (SQLite): a load still in flight has committed and
    # is publishing; once it has, this load's checks see its rows.
    stores.lake.wait_for_settled([contract.name, *contract.mirrors])
    started = pipeline.now_utc()
    lake_load_id = sha[:20]
    # In flight from here on: this process owns the load id until the transaction ends (a second attempt of
    # the same file meanwhile gets a 409), so removing what an unrecorded earlier attempt left is safe.
    pending = stores.lake.begin_load(lake_load_id, [contract.name, *contract.mirrors])
    try:
        # Read the keyring again only now that the load is declared in flight: a rotation marks its key pending
        # and then waits for in-flight loads, so either it waits for this one or this read sees the flag.
        keys = _keys_outside_rotation(stores.pseudonym_key)
        _discard_unrecorded(stores.lake, contract, lake_load_id)
        quarantine = pipeline.Quarantine(contract)
        table, total = _validate_files(contract, files, encoding, quarantine, progress)
        table = pipeline.protect(contract, table, keys)
        table = _drop_foreign_rows(session, principal, contract, table, stores.lake, quarantine)
        table = _checked(contract, stores.lake, table, quarantine)
        qfile = quarantine.write(
            stores.quarantine_dir / dataset / f"{lake_load_id}.csv", Sealer(stores.quarantine_key)
        )
        lake_files = _write_lake(stores.lake, contract, table, lake_load_id, pending)
        # Database writes come after the slow lake write, so the audit chain's head lock is held only briefly.
        parties = _register_parties(session, principal, dataset, table)
        load = Load(
            id=new_id(),
            dataset=dataset,
            file_name=path.name,
            file_sha256=sha,
            lake_load_id=lake_load_id,
            org_id=principal.org_id,
            loaded_by=principal.subject_id,
            rows_total=total,
            accepted=table.num_rows,
            rejected=len(quarantine.rows),
            rejected_by_reason=quarantine.by_reason(),
            quarantine_file=str(qfile) if qfile else None,
            lake_files=[str(p) for p in lake_files],
            parties=parties,
            started_at=started,
            finished_at=pipeline.now_utc(),
        )
        session.add(load)
        session.flush()
        # Rejected records stay outstanding in the anomaly rate until a load brings their key (governance).
        rejections.record_load(
            session, contract, load.id, [(p, raw) for _, p, raw in quarantine.rows],
            _accepted_keys(contract, table), started.date(),
        )  # fmt: skip
        audit.record(
            session,
            principal,
            action="ingest.load",
            subject_type="dataset",
            subject_ids=[dataset, load.id],
            detail={"accepted": load.accepted, "rejected": load.rejected, "sha256": sha},
        )
    except BaseException:
        pending.settle(keep=False)
        raise
    _settle_with_transaction(session, pending)
    return LoadReport.model_validate(load)


def _keys_outside_rotation(keys: Keys) -> Keys:
    """The keyring as saved now (the one the load began with may predate a rotation), refused mid-rotation."""
    keys = reloaded(keys) if isinstance(keys, Keyring) else keys
    _refuse_during_rotation(keys)
    return keys


def _refuse_during_rotation(keys: Keys) -> None:
    """Rows loaded while `jinyu keys rotate` rewrites the lake would keep the old version's tokens."""
    if isinstance(keys, Keyring) and keys.pending is not None:
        raise Conflict(
            detail=f"假名密钥轮换进行中（版本 {keys.pending}），请稍后重试 / "
            f"pseudonym key rotation to version {keys.pending} in progress: retry when it is done"
        )


def _accepted_keys(contract: Contract, table: pa.Table) -> list[str]:
    if table.num_rows == 0 or not rejections.matchable(contract):
        return []
    columns = [table.column(k).to_pylist() for k in contract.key]
    return [rejections.key_text(values) for values in zip(*columns, strict=True)]


def recover(session: Session, lake: Lake) -> Recovered:
    """Settle what loads killed mid-way left in the lake: files of a load whose record committed stay, the
    rest (and stray temporary files) go. Runs before every load and at start-up; live loads are untouched."""

    def committed(dataset: str, lake_load_id: str) -> bool:
        return repo.committed(session, dataset, lake_load_id)

    return lake.recover(committed)


def recover_at_start(factory: sessionmaker[Session], lake_dir: Path) -> Recovered:
    """`recover` at start-up (API server): nothing to do, and no database query, when no load is pending."""
    if not lake_dir.is_dir():
        return Recovered()
    with transaction(factory) as session:
        return recover(session, Lake(lake_dir))


def _settle_with_transaction(session: Session, pending: PendingLoad) -> None:
    """The load's lake files stay if and only if the transaction holding its record commits.

    The record lives in the innermost transaction open now; a savepoint's release hands it to the enclosing
    transaction, a rollback anywhere on the way discards the files, the outermost commit keeps them."""
    owner = session.get_nested_transaction() or session.get_transaction()
    committed: list[SessionTransaction] = []

    def on_commit(s: Session) -> None:
        current = s.get_nested_transaction() or s.get_transaction()
        if current is not None:
            committed.append(current)

    def on_end(_: Session, transaction: SessionTransaction) -> None:
        nonlocal owner
        if transaction is not owner or not pending.open:
            return
        if not any(t is transaction for t in committed):
            pending.settle(keep=False)
        elif transaction.parent is None:
            pending.settle(keep=True)
        else:
            owner = transaction.parent

    event.listen(session, "after_commit", on_commit)
    event.listen(session, "after_transaction_end", on_end)


def _drop_foreign_rows(
    session: Session,
    principal: Principal,
    contract: Contract,
    table: pa.Table,
    lake: Lake,
    quarantine: pipeline.Quarantine,
) -> pa.Table:
    mask = scope.foreign_rows_mask(session, principal, contract, table, lake)
    return table if mask is None else pipeline.reject(table, mask, scope.reason(contract), quarantine)


def _checked(contract: Contract, lake: Lake, table: pa.Table, quarantine: pipeline.Quarantine) -> pa.Table:
    """The checks across rows (after protection and scoping): keys repeated in the file or already in the lake,
    references."""
    in_file = pipeline.repeated_key_mask(table, contract.key)
    table = pipeline.reject(table, in_file, "duplicate_key_in_file:" + ",".join(contract.key), quarantine)
    table = _drop_existing_keys(contract, lake, table, quarantine)
    table = _drop_unknown_references(contract, lake, table, quarantine)
    return table.sort_by(pipeline.ROW).drop_columns([pipeline.ROW])


def _discard_unrecorded(lake: Lake, contract: Contract, load_id: str) -> None:
    """Files under this load id without a load record are what a failed attempt left; remove them first."""
    for name in (contract.name, *contract.mirrors):
        lake.discard_load(name, load_id)


def _validate_files(
    contract: Contract,
    files: list[Path],
    encoding: str,
    quarantine: pipeline.Quarantine,
    progress: Progress | None,
) -> tuple[pa.Table, int]:
    tables: list[pa.Table] = []
    total = 0
    for file in files:
        mark = len(quarantine.rows)
        try:
            part, rows = _validate_file(contract, file, encoding, False, total, quarantine, progress)
        except reader.NeedsLinePass:
            del quarantine.rows[mark:]  # start the file again, line by line
            part, rows = _validate_file(contract, file, encoding, True, total, quarantine, progress)
        tables.extend(part)
        total += rows
    schema = pipeline.numbered_schema(contract)
    return (pa.concat_tables(tables) if tables else schema.empty_table()), total


def _validate_file(
    contract: Contract,
    file: Path,
    encoding: str,
    line_by_line: bool,
    offset: int,
    quarantine: pipeline.Quarantine,
    progress: Progress | None,
) -> tuple[list[pa.Table], int]:
    """Rows of one file, numbered after the `offset` rows of the files before it."""
    tables: list[pa.Table] = []
    rows = 0
    for item in reader.raw_items(contract, file, encoding, line_by_line):
        if isinstance(item, reader.Part):
            numbers = pc.add(item.rows, pa.scalar(offset, pa.int64()))
            tables.append(pipeline.validate_batch(contract, item.batch, numbers, quarantine))
            n = item.batch.num_rows
        else:
            quarantine.add(offset + item.row, [item.reason], dict(item.cells))
            n = 1
        rows += n
        if progress:
            progress(n)
    return tables, rows


def _drop_existing_keys(
    contract: Contract, lake: Lake, table: pa.Table, quarantine: pipeline.Quarantine
) -> pa.Table:
    if table.num_rows == 0 or not lake.files(contract.name):
        return table
    keys = table.select(list(contract.key))
    mask = lake.existing_keys_mask(contract.name, list(contract.key), keys)
    return pipeline.reject(table, mask, "duplicate_key_existing:" + ",".join(contract.key), quarantine)


def _drop_unknown_references(
    contract: Contract, lake: Lake, table: pa.Table, quarantine: pipeline.Quarantine
) -> pa.Table:
    for column, target in contract.references.items():
        if table.num_rows == 0:
            break
        ref_dataset, ref_column = target.split(".")
        wanted = pipeline.distinct_values(table, column)
        known = (
            set(lake.existing_values(ref_dataset, ref_column, wanted)) if lake.files(ref_dataset) else set()
        )
        if ref_dataset == contract.name:  # a dataset referring to itself (bank parents) may do so in-file
            known |= set(pipeline.distinct_values(table, ref_column))
        present = pc.invert(pc.is_null(table[column]))
        unknown = pc.and_(
            present, pc.invert(pc.is_in(table[column], pa.array(sorted(known), type=pa.string())))
        )
        table = pipeline.reject(
            table,
            unknown.combine_chunks() if hasattr(unknown, "combine_chunks") else unknown,
            f"unknown_reference:{column}",
            quarantine,
        )
    return table


def _register_parties(
    session: Session, principal: Principal, dataset: str, table: pa.Table
) -> dict[str, int]:
    if dataset not in MAPPERS or table.num_rows == 0:
        return {}
    return party.upsert_registry_orgs(session, principal, registry_orgs(dataset, table))


def _write_lake(
    lake: Lake, contract: Contract, table: pa.Table, load_id: str, pending: PendingLoad
) -> list[Path]:
    """The load's files, written under temporary names: they are published when its record commits."""
    if table.num_rows == 0:
        return []
    if all(lake.takes_keys(name, contract.hashed) for name in (contract.name, *contract.mirrors)):
        table = with_keys(table, contract.hashed)
    return lake.append(
        contract.name,
        table,
        load_id,
        partition_by=contract.partition_by,
        sort_by=contract.sort_by,
        mirrors=contract.mirrors,
        staged=pending,
    )


def list_loads(
    session: Session, principal: Principal, dataset: str | None, limit: int, offset: int
) -> Page[LoadReport]:
    principal.require(Perm.INGEST_READ)
    rows, total = repo.list_(session, principal, dataset, limit, offset)
    return Page[LoadReport](
        items=[LoadReport.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def get_load(session: Session, principal: Principal, load_id: str) -> LoadReport:
    principal.require(Perm.INGEST_READ)
    load = repo.get(session, principal, load_id)
    if load is None:
        raise LoadNotFound(detail=load_id)
    return LoadReport.model_validate(load)


def describe_contract(dataset: str) -> ContractOut:
    c = contract_for(dataset)
    columns = [
        ColumnOut(
            name=col.name,
            kind=col.kind.value,
            level=col.level.value,
            description=col.description,
            required=col.required,
            check=col.check.value
            if col.check
            else "; ".join(f"{c.value} if {k}={v}" for k, v, c in col.check_when) or None,
            choices=list(col.choices),
            protect=col.protect.value if col.protect else None,
        )
        for col in c.columns
    ]
    return ContractOut(
        name=c.name,
        title=c.title,
        provider=c.provider,
        key=list(c.key),
        partition_by=c.partition_by,
        columns=columns,
        references=dict(c.references),
        provided_by=sorted(k.value for k in c.provided_by),
        owner_column=c.owner_column,
    )


def list_contracts() -> list[ContractOut]:
    return [describe_contract(name) for name in CONTRACTS]
