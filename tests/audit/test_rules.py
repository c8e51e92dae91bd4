"""Pure rules: canonical form, hashing, content checks and chain verification (no database)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from jinyu.audit import rules
from jinyu.audit.errors import AuditEntryRejected
from jinyu.audit.rules import GENESIS_HASH, ChainHead, Problem
from tests.audit.factories import chain_entry, make_chain, rehash

Chain = tuple[list[dict[str, Any]], ChainHead | None]


def _changed_field(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[2] = {**entries[2], "actor_id": "user-mallory"}
    return entries, head


def _changed_and_rehashed(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[2] = rehash({**entries[2], "outcome": "denied"})
    return entries, head


def _last_changed_and_rehashed(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[-1] = rehash({**entries[-1], "detail": '{"note":"forged"}'})
    return entries, head


def _timestamp_moved(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[1] = {**entries[1], "at": entries[1]["at"] + dt.timedelta(microseconds=1)}
    return entries, head


def _removed_middle(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    del entries[2]
    return entries, head


def _removed_first(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    del entries[0]
    return entries, head


def _removed_last(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    del entries[-1]
    return entries, head


def _removed_all(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    return [], head


def _swapped_in_stream(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[1], entries[2] = entries[2], entries[1]
    return entries, head


def _swapped_last_two_in_stream(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[-2], entries[-1] = entries[-1], entries[-2]
    return entries, head


def _swapped_seq_numbers(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    # Rows keep their place in a seq-ordered read but trade positions: what an UPDATE of seq does.
    a, b = entries[1], entries[2]
    entries[1], entries[2] = {**b, "seq": 2}, {**a, "seq": 3}
    return entries, head


def _relinked(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    entries[3] = {**entries[3], "prev_hash": "f" * 64}
    return entries, head


def _inserted_forged_middle(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    # A forger who knows the algorithm: a correctly hashed entry after seq 2, later seqs renumbered.
    forged = chain_entry(3, entries[1]["hash"], actor_id="user-mallory")
    tail = [{**e, "seq": e["seq"] + 1} for e in entries[2:]]
    return [*entries[:2], forged, *tail], head


def _inserted_forged_tail(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    forged = chain_entry(len(entries) + 1, entries[-1]["hash"], actor_id="user-mallory")
    return [*entries, forged], head


def _head_missing(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    return entries, None


def _out_of_order_seq(entries: list[dict[str, Any]], head: ChainHead | None) -> Chain:
    return [*entries, entries[1]], head


CASES: list[
    tuple[str, Callable[[list[dict[str, Any]], ChainHead | None], Chain], Problem | None, int | None]
] = [
    ("intact", lambda e, h: (e, h), None, None),
    ("changed field", _changed_field, Problem.CHANGED, 3),
    ("changed field and rehashed", _changed_and_rehashed, Problem.CHANGED, 3),
    ("last entry changed and rehashed", _last_changed_and_rehashed, Problem.CHANGED, 5),
    ("timestamp moved by 1 µs", _timestamp_moved, Problem.CHANGED, 2),
    ("removed middle entry", _removed_middle, Problem.REMOVED, 3),
    ("removed first entry", _removed_first, Problem.REMOVED, 1),
    ("removed last entry", _removed_last, Problem.REMOVED, 5),
    ("removed every entry", _removed_all, Problem.REMOVED, 1),
    ("swapped two entries", _swapped_in_stream, Problem.REORDERED, 3),
    ("swapped last two entries", _swapped_last_two_in_stream, Problem.REORDERED, 5),
    ("swapped seq numbers", _swapped_seq_numbers, Problem.REORDERED, 2),
    ("prev_hash relinked", _relinked, Problem.REORDERED, 4),
    ("inserted forged entry", _inserted_forged_middle, Problem.INSERTED, 3),
    ("forged entry past the head", _inserted_forged_tail, Problem.INSERTED, 6),
    ("entry repeated out of order", _out_of_order_seq, Problem.REORDERED, 2),
    ("head missing", _head_missing, Problem.HEAD, None),
]


@pytest.mark.parametrize(
    ("tamper", "problem", "first_bad_seq"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_verify_chain_names_first_bad_entry(
    tamper: Callable[[list[dict[str, Any]], ChainHead | None], Chain],
    problem: Problem | None,
    first_bad_seq: int | None,
) -> None:
    entries, head = tamper(*make_chain(5))

    result = rules.verify_chain(iter(entries), head)

    assert (result.problem, result.first_bad_seq) == (problem, first_bad_seq)
    assert result.ok is (problem is None)


def test_checked_counts_entries_before_the_first_problem() -> None:
    entries, head = _changed_field(*make_chain(5))
    assert rules.verify_chain(entries, head).checked == 2
    assert rules.verify_chain(*make_chain(5)).checked == 5


@pytest.mark.parametrize(
    ("head", "problem"),
    [(None, None), (ChainHead(0, GENESIS_HASH), None), (ChainHead(0, "e" * 64), Problem.HEAD)],
    ids=["no head", "genesis head", "head hash without entries"],
)
def test_empty_chain(head: ChainHead | None, problem: Problem | None) -> None:
    assert rules.verify_chain([], head).problem == problem


def test_verify_streams_and_stops_at_the_first_problem() -> None:
    entries, head = _changed_field(*make_chain(50))
    pulled: list[int] = []

    def stream() -> Iterator[dict[str, Any]]:
        for entry in entries:
            pulled.append(entry["seq"])
            yield entry

    result = rules.verify_chain(stream(), head)

    assert result.first_bad_seq == 3
    assert max(pulled) == 4  # the bad entry plus one of look-ahead, never the rest


def test_beyond_head_turns_an_intact_result_into_inserted() -> None:
    intact = rules.verify_chain(*make_chain(3))
    assert rules.beyond_head(intact, None) is intact
    folded = rules.beyond_head(intact, 4)
    assert (folded.problem, folded.first_bad_seq, folded.checked) == (Problem.INSERTED, 4, 3)


@pytest.mark.parametrize("problem", [p for p in Problem if p is not Problem.CHECKPOINT])
def test_messages_are_chinese_first_with_english_and_name_the_seq(problem: Problem) -> None:
    message = rules.VerifyResult(checked=1, head=None, problem=problem, first_bad_seq=7).message
    assert message.startswith("审计链已损坏 / audit chain broken")
    if problem is not Problem.HEAD:
        assert "第 7 条" in message and "seq 7" in message


# ---------------------------------------------------------------------------------------------- hashing


def test_canonical_form_is_sorted_json_with_iso_utc_microseconds() -> None:
    entry = chain_entry(
        1, GENESIS_HASH, at=dt.datetime(2025, 3, 1, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )

    payload = json.loads(rules.canonical(entry))

    assert list(payload) == sorted(payload)
    assert "hash" not in payload
    assert payload["at"] == "2025-03-01T08:00:00.000000+00:00"
    assert set(payload) == set(rules.HASHED_FIELDS)


def test_naive_timestamps_are_taken_as_utc() -> None:
    aware = chain_entry(1, GENESIS_HASH, at=dt.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    naive = {**aware, "at": dt.datetime(2025, 1, 2, 3, 4, 5, 6)}
    assert rules.canonical(aware) == rules.canonical(naive)


def test_entry_hash_covers_prev_hash_and_every_field() -> None:
    entry = chain_entry(1, GENESIS_HASH)
    base = rules.entry_hash(GENESIS_HASH, entry)
    assert len(base) == 64 and int(base, 16) >= 0
    assert rules.entry_hash("1" * 64, entry) != base
    for name in rules.HASHED_FIELDS:
        if name == "prev_hash":
            continue
        changed = {**entry, name: 999 if name == "seq" else None if entry[name] else "x"}
        assert rules.entry_hash(GENESIS_HASH, changed) != base, name


def test_canonical_refuses_unstored_types() -> None:
    with pytest.raises(TypeError):
        rules.canonical({**chain_entry(1, GENESIS_HASH), "subject_ids": ["a"]})


# ---------------------------------------------------------------------------------------------- content


def test_content_serialises_lists_and_details_canonically() -> None:
    content = rules.content_of(
        action="claim.settle",
        subject_type="claim",
        subject_ids=["c-1", "c-2"],
        purpose="理赔结算",
        outcome="ok",
        detail={"b": Decimal("12.30"), "a": dt.date(2025, 1, 2), "名": "值"},
    )
    assert content.subject_ids == '["c-1","c-2"]'
    assert content.detail == '{"a":"2025-01-02","b":"12.30","名":"值"}'


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "PartyRead"}, "action"),
        ({"action": "read"}, "action"),
        ({"subject_type": "Org Unit"}, "subject_type"),
        ({"subject_ids": "org-1"}, "subject_ids"),
        ({"subject_ids": [""]}, "subject_ids"),
        ({"subject_ids": [str(i) for i in range(rules.MAX_SUBJECT_IDS + 1)]}, "subject_ids"),
        ({"outcome": "maybe"}, "outcome"),
        ({"purpose": "  "}, "purpose"),
        ({"detail": {"x": object()}}, "detail"),
        ({"detail": {"x": "y" * rules.MAX_DETAIL_CHARS}}, "detail"),
        ({"detail": {"phone": "13800138000"}}, "detail"),
        ({"detail": {"card": "6222 0212 3456 7890"}}, "detail"),
        ({"detail": {"nested": [{"id_no": "11010519491231002X"}]}}, "detail"),
        ({"detail": {"13800138000": 1}}, "detail"),
        ({"subject_ids": ["x" * (rules.MAX_SUBJECT_ID_CHARS + 1)]}, "subject_ids"),
        ({"purpose": "查询 13800138000 的账户"}, "purpose"),
    ],
)
def test_content_refuses_what_the_trail_must_never_hold(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"action": "party.org.read", "subject_type": "organisation", **kwargs}
    with pytest.raises(AuditEntryRejected) as caught:
        rules.content_of(**args)
    assert caught.value.detail.startswith(field)


@pytest.mark.parametrize(
    "value",
    [
        "0123456789abcdef0123456789abcdef",
        "91500000MA5U7H2X3N",
        "pt_1234567890123456789012345678901a",
        "2025-03-01",
    ],
    ids=["hex id", "credit code", "pseudonym token", "date"],
)
def test_content_accepts_ids_codes_and_pseudonyms(value: str) -> None:
    rules.content_of(
        action="party.org.read", subject_type="organisation", subject_ids=[value], detail={"v": value}
    )


def test_subject_ids_are_taken_as_declared() -> None:
    # subject_ids are the caller's ids of the subject (searched for exactly); only free text is screened.
    content = rules.content_of(
        action="http.get", subject_type="route", subject_ids=["/api/v1/accounts/62220212"]
    )
    assert content.subject_ids == '["/api/v1/accounts/62220212"]'


@pytest.mark.parametrize(
    "detail",
    [
        {"a": "1380013", "b": "8000"},  # 11 digits only if two strings were run together
        {"a": "138 0013", "b": "8000 1234"},  # a separator at a string's end does not join it to the next
        {"1380013": "80001234"},  # a key and its value
        {"a": ["6222 0212", "3456 7890"]},
        {"a": "1380013-", "b": "-8000"},
    ],
)
def test_no_identifier_is_made_of_two_strings(detail: dict[str, Any]) -> None:
    # each string on its own is screened (issue 20: all are searched at once, joined by newlines)
    rules.content_of(action="party.org.read", subject_type="organisation", detail=detail)


@pytest.mark.parametrize(
    "detail",
    [
        {"a": "x", "b": "y\n13800138000"},
        {"a": "1380013", "b": "x 138-0013-8000 y"},
        {"a": ["ok", {"b": ["fine", "6222 0212 3456 7890"]}]},
        {"a": "12", "13800138000": "b"},
        {"a": "500101199001011234"},
    ],
)
def test_an_identifier_in_any_string_is_refused(detail: dict[str, Any]) -> None:
    with pytest.raises(AuditEntryRejected):
        rules.content_of(action="party.org.read", subject_type="organisation", detail=detail)


def test_canonical_bytes_and_hash_of_a_fixed_entry() -> None:
    # a test vector written out by hand: an entry's hash must never change with the code that makes it
    entry = {
        "seq": 7,
        "id": "e-7",
        "at": dt.datetime(2026, 12, 7, 23, 0, 1, 5, tzinfo=dt.UTC),
        "actor_id": "u-1",
        "actor_name": "医院 A",
        "org_id": "o-1",
        "tenant_id": None,
        "action": "claim.settlement.settle",
        "subject_type": "claim_settlement",
        "subject_ids": '["s-1"]',
        "purpose": None,
        "outcome": "ok",
        "detail": '{"payout":"4200.00","person":"pt_ab","status":"settled"}',
        "request_id": None,
        "prev_hash": "f" * 64,
    }
    expected = (
        '{"action":"claim.settlement.settle","actor_id":"u-1","actor_name":"医院 A",'
        '"at":"2026-12-07T23:00:01.000005+00:00",'
        '"detail":"{\\"payout\\":\\"4200.00\\",\\"person\\":\\"pt_ab\\",\\"status\\":\\"settled\\"}",'
        '"id":"e-7","org_id":"o-1","outcome":"ok","prev_hash":"' + "f" * 64 + '","purpose":null,'
        '"request_id":null,"seq":7,"subject_ids":"[\\"s-1\\"]","subject_type":"claim_settlement",'
        '"tenant_id":null}'
    ).encode()
    assert rules.canonical(entry) == expected
    assert rules.entry_hash("f" * 64, entry) == hashlib.sha256(expected).hexdigest()
    assert rules.json_text({"b": [Decimal("1.50"), None], "a": "名"}) == '{"a":"名","b":["1.50",null]}'
    with pytest.raises(ValueError):
        rules.json_text({"x": float("nan")})
