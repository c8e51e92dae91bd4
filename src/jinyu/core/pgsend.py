"""A pipeline's statements sent in one write to the server, their results read back together (psycopg's libpq
connection, used directly).

Why: psycopg's own pipeline (`Connection.pipeline()` with a cursor per statement) flushes the socket and polls it
after every statement, and builds a cursor with its adapters for each: on a slow 2-core machine that was ~40 %
of the settling thread's CPU, the `send` system calls alone ~12 % (py-spy with `--gil --native`; a loopback
send runs the TCP stack and wakes the backend while holding the GIL), and it woke the PostgreSQL backend once per
statement. Here every statement is queued into libpq's output buffer (it writes nothing until the Sync in
pipeline mode, unless the buffer grows past 64 KiB), the Sync flushes it in one write, and the results are read
as they arrive. The transaction's BEGIN, when one is due, goes in the same pipeline (psycopg sends it and waits
for it before the first statement: one more round trip).

What stays as psycopg does it: parameters are converted by psycopg's own query classes and the connection's
adapters (`%(name)s` and `%s` placeholders, or `$n` ones with a list, sent as they are), rows are loaded by its
Transformer as tuples, a statement run often is prepared (psycopg's own cache of prepared statements decides
and remembers, as for its cursors), and a failed statement's error is psycopg's exception for it; the
statements after it in the pipeline are not run (the server skips them to the Sync).
Everything a statement needs is converted before anything is sent, so a conversion error leaves the connection
as it was.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import abc as pg_abc
from psycopg import errors as pg_errors
from psycopg import generators
from psycopg._preparing import Prepare
from psycopg._queries import PostgresQuery, PostgresRawQuery
from psycopg.adapt import Transformer
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus

logger = logging.getLogger(__name__)

_WIRES: weakref.WeakKeyDictionary[psycopg.Connection[Any], pg_abc.Transformer] = weakref.WeakKeyDictionary()


@dataclass
class _Query:
    """One execution, converted: what to send, and which statement of the caller's list it belongs to."""

    index: int  # -1: the transaction's BEGIN
    text: bytes
    params: Sequence[Any] | None
    types: tuple[int, ...]
    formats: Sequence[Any] | None
    prep: Prepare = Prepare.NO  # YES: run the prepared `name`; SHOULD: prepare it first, in this pipeline
    name: bytes = b""
    key: Any = None  # psycopg's cache entry to validate with the result
    converted: PostgresQuery | None = None


def exchange(conn: psycopg.Connection[Any], statements: Sequence[tuple[str, list[Any]]]) -> list[list[Any]]:
    """Run the statements in one pipeline; each one's rows as tuples ([] for a statement returning none, and
    for one run with several parameter sets). Raises psycopg's error of the first statement that failed.

    Prepared statements are psycopg's own (`conn._prepared`): it counts the runs, names them and forgets them
    all when it deallocates them (a ROLLBACK, a DROP or ALTER), so both paths share one state."""
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    tx = _WIRES.get(conn)
    if tx is None:
        tx = _WIRES[conn] = Transformer(conn)
    with conn.lock:
        queries = _converted(conn, tx, statements)
        results = conn.wait(_pipeline(conn, queries))
        if conn._prepared._to_flush:  # statements psycopg evicted from its cache: deallocated now
            conn.wait(conn._prepared.maintain_gen(conn))
    out: list[list[Any]] = [[] for _ in statements]
    single = [len(params) == 1 for _, params in statements]
    for query, result in zip(queries, results, strict=True):
        if query.index >= 0 and single[query.index] and result.status == ExecStatus.TUPLES_OK:
            tx.set_pgresult(result)
            out[query.index] = tx.load_rows(0, result.ntuples, tuple)
    return out


def _converted(
    conn: psycopg.Connection[Any], tx: pg_abc.Transformer, statements: Sequence[tuple[str, list[Any]]]
) -> list[_Query]:
    queries: list[_Query] = []
    if not conn.autocommit and conn.pgconn.transaction_status == TransactionStatus.IDLE:
        queries.append(_Query(-1, conn._get_tx_start_command(), None, (), None))
    for index, (sql, param_sets) in enumerate(statements):
        text = sql.encode()
        for params in param_sets:
            queries.append(_query(tx, index, text, params))
    for query in queries:  # only once every one is converted: psycopg's cache then counts what is sent
        if query.converted is not None:
            query.prep, query.name = conn._prepared.get(query.converted, None)
            query.key = conn._prepared.maybe_add_to_cache(query.converted, query.prep, query.name)
    return queries


def _query(tx: pg_abc.Transformer, index: int, text: bytes, params: Any) -> _Query:
    """Positional values (a list or tuple) go with `$n` placeholders as they are; a mapping fills psycopg's
    `%(name)s` ones; empty parameters: a command sent as written (SAVEPOINT, COMMIT), never prepared."""
    if not params:
        return _Query(index, text, None, (), None)
    pgq = PostgresRawQuery(tx) if isinstance(params, (list, tuple)) else PostgresQuery(tx)
    pgq.convert(text, params)
    return _Query(index, pgq.query, pgq.params, pgq.types, pgq.formats, converted=pgq)


def _pipeline(conn: psycopg.Connection[Any], queries: list[_Query]) -> Generator[Any, Any, list[Any]]:
    """Send everything, then the Sync (one write), then read a result per query. The connection leaves
    pipeline mode whatever happens."""
    pg = conn.pgconn
    pg.enter_pipeline_mode()
    results: list[Any] = []
    error: Exception | None = None
    try:
        for q in queries:
            if q.prep is Prepare.SHOULD:
                pg.send_prepare(q.name, q.text, param_types=q.types)
            if q.prep is Prepare.NO:
                pg.send_query_params(q.text, q.params, param_formats=q.formats, param_types=q.types)
            else:
                pg.send_query_prepared(q.name, q.params, param_formats=q.formats)
        pg.pipeline_sync()
        yield from generators.send(pg)
        for q in queries:
            if q.prep is Prepare.SHOULD:
                (prepared,) = yield from generators.fetch_many(pg)
                error = error or _error(pg, prepared)
            fetched = yield from generators.fetch_many(pg)
            error = error or _error(pg, fetched[-1])
            if q.key is not None:  # psycopg keeps the statement as prepared only if it ran
                conn._prepared.validate(q.key, q.prep, q.name, fetched)
            results.append(fetched[-1])
        (sync,) = yield from generators.fetch_many(pg)
        if sync.status != ExecStatus.PIPELINE_SYNC:
            raise psycopg.InterfaceError(f"pipeline out of step: {ExecStatus(sync.status).name} for its Sync")
    finally:
        _leave(pg)
    if error is not None:
        raise error
    return results


def _error(pg: Any, result: Any) -> Exception | None:
    if result.status != ExecStatus.FATAL_ERROR:
        return None
    return pg_errors.error_from_result(result, encoding=pg._encoding)


def _leave(pg: Any) -> None:
    if pg.status == ConnStatus.BAD:
        return
    try:
        pg.exit_pipeline_mode()
    except psycopg.OperationalError as exc:  # results left unread after an I/O error: the connection is lost
        logger.warning("could not leave pipeline mode: %s", exc)
