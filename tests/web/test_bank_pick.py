"""The bank picker of the enterprise's forms (`jinyu.web.pages.bankpick.group_banks`), on a hand-made directory:
grouped by bank, head office first, branches each followed by their outlets, own banks first, filtered by name or
code."""

from __future__ import annotations

from jinyu.party.schemas import OrgOut
from jinyu.web.pages.bankpick import group_banks, head_offices


def org(code: str, name: str, kind: str, parent: str | None = None) -> OrgOut:
    return OrgOut(
        id=f"id-{code}",
        kind=kind,
        code=code,
        name=name,
        uscc=None,
        parent_id=f"id-{parent}" if parent else None,
        tenant_id="t",
        district_code=None,
        industry_code=None,
        attrs={},
    )


# Listed as the directory lists them: alphabetically by name, every level mixed.
DIRECTORY = [
    org("A", "A银行", "bank_head_office"),
    org("A1", "A银行江北支行", "bank_branch", "A"),
    org("B", "B银行", "bank_head_office"),
    org("B1", "B银行渝北支行", "bank_branch", "B"),
    org("B1a", "B银行渝北支行两路分理处", "bank_outlet", "B1"),
    org("B2", "B银行江北支行", "bank_branch", "B"),
    org("C", "C银行", "bank_head_office"),
    org("C1", "C银行渝北支行", "bank_branch", "C"),
]


def shape(groups: list) -> list[tuple[str, bool, list[tuple[str, int, bool]]]]:  # type: ignore[type-arg]
    return [(g.name, g.own, [(o.code, o.level, o.own) for o in g.options]) for g in groups]


def test_grouped_head_office_first_branches_then_their_outlets() -> None:
    assert shape(group_banks(DIRECTORY, frozenset())) == [
        ("A银行", False, [("A", 0, False), ("A1", 1, False)]),
        ("B银行", False, [("B", 0, False), ("B2", 1, False), ("B1", 1, False), ("B1a", 2, False)]),
        ("C银行", False, [("C", 0, False), ("C1", 1, False)]),
    ]


def test_the_enterprises_own_banks_come_first() -> None:
    # an account at B's outlet and one at C's branch: B and C first (by name), then A
    groups = group_banks(DIRECTORY, frozenset({"B1a", "C1"}))
    assert [(g.name, g.own) for g in groups] == [("B银行", True), ("C银行", True), ("A银行", False)]
    assert [o.code for o in groups[0].options if o.own] == ["B1a"]
    assert [o.code for o in head_offices(groups)] == ["B", "C", "A"]


def test_filter_keeps_matches_with_their_head_office() -> None:
    # "渝北" matches B1, B1a and C1: each bank keeps its head office (a grant to it covers the branches)
    assert shape(group_banks(DIRECTORY, frozenset(), "渝北")) == [
        ("B银行", False, [("B", 0, False), ("B1", 1, False), ("B1a", 2, False)]),
        ("C银行", False, [("C", 0, False), ("C1", 1, False)]),
    ]
    # a head office's name keeps its whole bank; codes match too, case-insensitively; nothing → no group
    assert [o.code for o in group_banks(DIRECTORY, frozenset(), "a银行")[0].options] == ["A", "A1"]
    assert shape(group_banks(DIRECTORY, frozenset(), "b2")) == [
        ("B银行", False, [("B", 0, False), ("B2", 1, False)])
    ]
    assert group_banks(DIRECTORY, frozenset(), "不存在") == []


def test_labels_indent_branches_and_outlets() -> None:
    options = group_banks(DIRECTORY, frozenset(), "两路")[0].options
    assert [o.label for o in options] == ["B银行", "\u3000\u3000B银行渝北支行两路分理处"]
