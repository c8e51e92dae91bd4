"""Pseudonym key status, rotation dry run and rotation, translation of old tokens.

Why re-tokenize rather than keep a per-version mapping: a mapping would leave the lake under the old key, so
a leaked old key would still let anyone test guesses (resident IDs are a small space) against every stored
token; and every join in every query would have to translate. Re-tokenizing puts the whole lake and store
under the new version, so joins stay plain equality. Raw identifiers are never kept, so a version-n token is
made from the version n-1 token with key n (`core.privacy.advance`): the rewrite needs only the tokens, and a
fresh ingest of the same person yields the same token as a rewritten old row.

A rotation holds `rotation.lock` from (1) to (5) (`exclusive`): (1) a new key is generated and saved as
*pending* (loads are refused from then on; those in flight are waited for); (2) every lake
file holding older tokens is staged rewritten beside itself; (3) the staged files are renamed into place;
(4) the operational store's token columns are rewritten, older tokens in the (chained, never rewritten) audit
trail are aliased (`audit.aliases`) and the rotation audited, in the boundary's
transaction; (5) after the commit, `activate` puts the new version in force. Each step is idempotent, so a
re-run after a crash anywhere completes the rotation; until step 3 nothing readers see has changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import io
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from jinyu.analytics.lake import Lake
from jinyu.audit import aliases as audit_aliases
from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import Conflict, InvalidInput
from jinyu.core.privacy import TokenNotCurrent, token_version, translate
from jinyu.core.pseudokeys import Keyring, activated, save, with_new_version
from jinyu.governance.keys import lakefiles, store
from jinyu.governance.keys.schemas import (
    KeyStatusOut,
    KeyVersionOut,
    RotationOut,
    RotationPlanOut,
    TokenTranslationOut,
    TranslateBatchOut,
    TranslateError,
    TranslateOut,
)
from jinyu.governance.policy.protect import Reader, protect

TOKEN_FORMAT = "pt_<32 hex> = 版本 1 / version 1; pt_v<n>_<32 hex> = 版本 n / version n"


@dataclass(frozen=True)
class Stores:
    lake_root: Path
    keys_dir: Path
    load_ring: Callable[[], Keyring]  # the keyring as saved now (it changes during a rotation)
    tables: (
        MetaData  # every domain's tables (`jinyu.models.metadata`): the store's token columns are among them
    )


def status(principal: Principal, ring: Keyring) -> KeyStatusOut:
    principal.require(Perm.KEYS_READ)
    versions = []
    for v in sorted(ring.keys):
        successor = ring.since.get(v + 1) if v < ring.current else None
        until = successor + dt.timedelta(days=ring.grace_days) if successor else None
        if v == ring.pending:
            state = "pending"
        elif v == ring.current:
            state = "current"
        else:
            state = "grace" if until is None or until > dt.datetime.now(dt.UTC) else "retired"
        versions.append(
            KeyVersionOut(version=v, state=state, since=ring.since.get(v), old_tokens_resolve_until=until)
        )
    return KeyStatusOut(
        current=ring.current,
        pending=ring.pending,
        rotation_in_progress=ring.pending is not None,
        grace_days=ring.grace_days,
        token_format=TOKEN_FORMAT,
        versions=versions,
    )


def translate_one(ring: Keyring, token: str, now: dt.datetime) -> TokenTranslationOut:
    """One token forward to the current version, or why not; the one rule behind the CLI and the API.

    Forward only (`core.privacy.translate`): nothing here turns a current token back into an older one."""
    version = token_version(token)
    try:
        current = translate(ring, token, now)
    except TokenNotCurrent as exc:
        if exc.reason == "not_a_token":  # the API's request model refuses these before they get here
            raise InvalidInput(detail=f"无法换算该令牌 / cannot translate this token: {exc}") from None
        refused: TranslateError = "expired" if exc.reason == "expired" else "unknown_version"
        return TokenTranslationOut(token=token, version=version, error=refused, expired_on=exc.expired_on)
    same: TranslateError | None = "already_current" if version == ring.current else None
    return TokenTranslationOut(token=token, version=version, current_token=current, error=same)


def translate_token(principal: Principal, ring: Keyring, token: str) -> TranslateOut:
    """An old token (from an earlier export or report) as the current version, during the grace period."""
    principal.require(Perm.KEYS_READ)
    out = translate_one(ring, token, dt.datetime.now(dt.UTC))
    if out.current_token is None:
        until = f" ({out.expired_on.date().isoformat()})" if out.expired_on else ""
        raise InvalidInput(detail=f"无法换算该令牌 / cannot translate this token: {out.error}{until}")
    assert out.version is not None  # translate_one refuses non-tokens
    return TranslateOut(
        token=token, version=out.version, current_token=out.current_token, current_version=ring.current
    )


def translate_tokens(
    session: Session, principal: Principal, ring: Keyring, tokens: Sequence[str]
) -> TranslateBatchOut:
    """Old tokens from a caller's earlier exports and reports, each as the current version (or why not).

    Tokens are not tenant-scoped and need not be: the answer is a function of the token alone, forward only,
    so a caller learns nothing it could not get by asking today's endpoints about the subject it already
    holds a token of; it cannot reverse a token or enumerate subjects. Audited: the counts by version and
    outcome, and (as subject ids) the current-version tokens answered, so "who looked at X" finds the call."""
    principal.require(Perm.KEYS_TRANSLATE)
    now = dt.datetime.now(dt.UTC)
    items = [translate_one(ring, token, now) for token in tokens]
    answered = sorted({i.current_token for i in items if i.current_token is not None})
    audit.record(
        session,
        principal,
        action="keys.translate",
        subject_type="pseudonym_token",
        subject_ids=answered,
        detail={
            "tokens": len(items),
            "current_version": ring.current,
            "versions": {f"v{v}": n for v, n in sorted(Counter(i.version for i in items).items())},
            "outcomes": dict(sorted(Counter(i.error or "translated" for i in items).items())),
        },
    )
    answer = TranslateBatchOut(current_version=ring.current, grace_days=ring.grace_days, items=items)
    return protect(answer, Reader(principal))


def plan(session: Session, principal: Principal, stores: Stores) -> RotationPlanOut:
    """What a rotation would rewrite and an estimate of its time; changes nothing."""
    principal.require(Perm.KEYS_ROTATE)
    ring = stores.load_ring()
    target = ring.pending or ring.current + 1
    work = lakefiles.files_to_rewrite(stores.lake_root, target)
    return RotationPlanOut(
        from_version=ring.current,
        to_version=target,
        lake_files=len(work),
        lake_rows=sum(w.rows for w in work),
        lake_bytes=sum(w.size for w in work),
        store_rows=store.count_older(session, stores.tables, target),
        estimated_seconds=round(_estimate(work, ring, target), 1),
    )


def _estimate(work: list[lakefiles.FileWork], ring: Keyring, target: int) -> float:
    """Rewrite the largest file in memory (a throwaway key for the new version) and scale by size."""
    if not work:
        return 0.0
    sample = max(work, key=lambda w: w.size)
    trial = with_new_version(ring) if target not in ring.keys else ring
    started = time.perf_counter()
    table = lakefiles.rewrite_table(pq.read_table(sample.path), sample.columns, trial, target)
    pq.write_table(table, io.BytesIO(), compression="zstd")
    per_byte = (time.perf_counter() - started) / max(sample.size, 1)
    return per_byte * sum(w.size for w in work)


Progress = Callable[[int, int], None]  # (rows done now, rows in all)


def rotate(
    session: Session, principal: Principal, stores: Stores, progress: Progress | None = None
) -> RotationOut:
    """Steps 1-4 of a rotation (see the module); the boundary commits, then calls `activate`."""
    principal.require(Perm.KEYS_ROTATE)
    with _exclusive(stores.keys_dir):
        ring = stores.load_ring()
        resumed = ring.pending is not None
        if not resumed:
            ring = with_new_version(ring)
            save(stores.keys_dir, ring)  # from here on, loads are refused
        target = ring.pending
        assert target is not None
        _wait_for_loads(stores.lake_root)
        work = lakefiles.files_to_rewrite(stores.lake_root, target)
        total = sum(w.rows for w in work)
        journal = lakefiles.Journal(stores.keys_dir / f"rotation-v{target}.json", target)
        for w in work:
            if not journal.staged(w):
                lakefiles.stage(w, ring, target)
                journal.note(w)
            if progress is not None:
                progress(w.rows, total)
        swapped = lakefiles.swap(stores.lake_root, target)
        # Before the store rewrite, which carries earlier rotations' aliases forward to `target` too.
        aliased = audit_aliases.remember(session, ring, target)
        changed = store.rewrite(session, stores.tables, ring, target)
        entry = audit.record(
            session,
            principal,
            action="keys.rotate",
            subject_type="pseudonym_key",
            subject_ids=[f"v{ring.current}", f"v{target}"],
            detail={
                "from_version": ring.current,
                "to_version": target,
                "os_user": getpass.getuser(),
                "resumed": resumed,
                "lake_files": len(work),
                "lake_rows": total,
                "store_rows": sum(changed.values()),
                "audit_aliases": aliased,
            },
        )
        journal.remove()
    return RotationOut(
        from_version=ring.current,
        to_version=target,
        lake_files=len(work),
        lake_rows=total,
        lake_bytes=sum(w.size for w in work),
        store_rows=changed,
        estimated_seconds=0.0,
        dry_run=False,
        lake_files_swapped=swapped,
        audit_id=entry.id,
    )


def activate(stores: Stores, now: dt.datetime | None = None) -> Keyring:
    """Step 5, after the store's commit: the new version in force; new tokens are only of it from now."""
    with _exclusive(stores.keys_dir):
        ring = stores.load_ring()
        if ring.pending is None:
            return ring
        ring = activated(ring, now or dt.datetime.now(dt.UTC))
        save(stores.keys_dir, ring)
        return ring


# A load in flight validates and writes a whole file before it settles: wait longer than a load waits for another.
LOAD_WAIT_SECONDS = 600.0


def _wait_for_loads(lake_root: Path) -> None:
    """A load declared in flight before the key was marked pending may write old tokens: let it end first.

    Every dataset's loads, not only those of datasets already in the lake (a first load has no files yet). A
    load that declares itself after this returns re-reads the keyring and sees the pending flag (ingest)."""
    Lake(lake_root).wait_for_settled(None, LOAD_WAIT_SECONDS)


# Keys directories whose rotation lock a thread of this process holds, by thread: `rotate` and `activate`
# inside that thread's `exclusive` reuse it; another thread is refused like another process.
_HELD: dict[Path, int] = {}


def exclusive(stores: Stores) -> contextlib.AbstractContextManager[None]:
    """Hold the rotation lock across a whole rotation: steps 1-4, the store's commit and `activate`.

    Released between `rotate` and `activate`, a second rotation could resume the first one's pending key while
    its store transaction is uncommitted, and activate it before that commit (or race the first's activation)."""
    return _exclusive(stores.keys_dir)


@contextlib.contextmanager
def _exclusive(keys_dir: Path) -> Iterator[None]:
    held = keys_dir.resolve()
    if _HELD.get(held) == threading.get_ident():
        yield
        return
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(keys_dir / "rotation.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                detail="另一个密钥轮换正在运行，请待其结束后再试 / another key rotation is running: "
                f"wait for it to finish (lock {keys_dir / 'rotation.lock'})"
            ) from None
        _HELD[held] = threading.get_ident()
        try:
            yield
        finally:
            _HELD.pop(held, None)
    finally:
        os.close(fd)
