"""`db.json_loads`, the PostgreSQL engine's reader of `json`/`jsonb` columns: orjson where it reads exactly as the
json module does, the json module otherwise (h-br, issue 20)."""

from __future__ import annotations

import json
import math
import random
import struct

import pytest
from psycopg.adapt import Transformer
from psycopg.pq import Format
from sqlalchemy import Engine, text

from jinyu.core import db


def _same(a: object, b: object) -> bool:
    """Equal values of the same types all the way down (1 == 1.0 == True would pass `==` alone)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        assert isinstance(b, float)
        return struct.pack("<d", a) == struct.pack("<d", b)  # -0.0 is not 0.0
    return a == b


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"[]", []),
        (b'["E11", "I10.9"]', ["E11", "I10.9"]),
        (b'{"payout": "6229.41", "n": 3, "r": 0.5, "ok": true, "x": null}', None),
        ('{"name": "医保目录内"}'.encode(), {"name": "医保目录内"}),
        (b'{"name": "\\u533b\\u4fdd"}', {"name": "医保"}),  # the json module's escaped form, as old rows hold
        (b'{"a": 1, "a": 2}', {"a": 2}),  # the last of duplicate keys
        (b"9223372036854775807", 9223372036854775807),
        (b"-9223372036854775808", -9223372036854775808),
        (b"18446744073709551616", 18446744073709551616),  # beyond 64 bits: orjson would give a float
        (b"-9223372036854775809", -9223372036854775809),
        (b"[123456789012345678901234567890]", [123456789012345678901234567890]),
        (b"-0", 0),
        (b"-0.0", -0.0),
        (b"1e2", 100.0),
        (b"0.1", 0.1),
        (b'"\\ud800"', "\ud800"),  # a lone surrogate: orjson refuses it, the json module reads it
        (b'"a\\u0000b"', "a\x00b"),
    ],
)
def test_documents_read_as_the_json_module_reads_them(raw: bytes, expected: object) -> None:
    got = db.json_loads(raw)
    if expected is None:
        expected = {"payout": "6229.41", "n": 3, "r": 0.5, "ok": True, "x": None}
    assert _same(got, expected), (got, expected)
    assert _same(db.json_loads(memoryview(raw)), expected)
    assert _same(db.json_loads(raw.decode("utf-8", "surrogatepass")), expected)


def test_a_number_beyond_a_double_is_infinity_as_before() -> None:
    assert db.json_loads(b"[1e400, -1e400]") == [math.inf, -math.inf]


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,]", b"NaNx", b'{"a" 1}'])
def test_what_is_no_json_raises_the_json_module_error(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        db.json_loads(raw)


def _document(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.randint(-(2**70), 2**70) if rng.random() < 0.2 else rng.randint(-(10**6), 10**6)
    if kind == 1:
        bits = rng.getrandbits(64)
        value = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
        return value if math.isfinite(value) else rng.random()
    if kind == 2:
        return rng.choice(["", "医保目录内", 'a"b\\c\n', "pt_v2_0f3a", "\u2028", "🙂", "123"])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return f"{rng.randint(0, 10**9)}.{rng.randint(0, 99):02d}"
    if kind == 5:
        return rng.uniform(-1e6, 1e6)
    if kind in (6, 7):
        return {f"k{rng.randrange(20)}": _document(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [_document(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_generated_documents_read_the_same_both_ways() -> None:
    rng = random.Random(20)
    for _ in range(3000):
        doc = _document(rng)
        for raw in (json.dumps(doc).encode(), json.dumps(doc, ensure_ascii=False).encode()):
            assert _same(db.json_loads(raw), json.loads(raw)), raw


@pytest.mark.postgres
def test_the_engine_reads_json_and_jsonb_columns_with_it(postgres_engine: Engine) -> None:
    engine = db.make_engine(postgres_engine.url.render_as_string(hide_password=False))
    original = db.json_loads
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    'SELECT \'["E11", "I10"]\'::json, '
                    '\'{"n": 18446744073709551616, "s": "医保", "f": 0.5, "l": [1, {"x": null}]}\'::jsonb'
                )
            ).one()
        assert _same(row[0], ["E11", "I10"])
        assert _same(row[1], {"f": 0.5, "l": [1, {"x": None}], "n": 18446744073709551616, "s": "医保"})
        raw = engine.raw_connection()
        try:
            loader = raw.dbapi_connection.adapters.get_loader(  # type: ignore[union-attr]
                raw.dbapi_connection.adapters.types["json"].oid,  # type: ignore[union-attr]
                0,
            )
            assert loader is not None
            assert loader._loads is original  # type: ignore[attr-defined]
            wire = Transformer(raw.dbapi_connection)  # as `core.pgsend` loads the batch's rows
            for name in ("json", "jsonb"):
                oid = raw.dbapi_connection.adapters.types[name].oid  # type: ignore[union-attr]
                for fmt in (Format.TEXT, Format.BINARY):
                    assert wire.get_loader(oid, fmt).loads is original  # type: ignore[attr-defined]
        finally:
            raw.close()
    finally:
        engine.dispose()
