"""Every audit action the code records has a meaning (中文 / English) in `jinyu.audit.actions.MEANINGS`, the one
table the console's audit search shows; docs/audit.md's "Actions" tables say the same for each action."""

from __future__ import annotations

import re

from jinyu.audit.actions import MEANINGS, meaning
from tests.audit.test_docs_actions import DOC, EXPANSIONS, code_actions

ROW = re.compile(r"^\| `([a-z_]+(?:\.[a-z_]+)+)` \| (.+?) \| .+ \|$", re.M)


def _recorded() -> set[str]:
    actions, _ = code_actions()
    for values in EXPANSIONS.values():
        actions |= values
    return actions


def test_every_recorded_action_has_a_meaning_and_none_is_stale() -> None:
    recorded = _recorded()
    assert sorted(recorded - set(MEANINGS)) == [], "add these actions' meanings to jinyu.audit.actions"
    assert sorted(set(MEANINGS) - recorded) == [], "the code no longer records these: drop their meanings"


def test_meanings_are_chinese_first_with_english() -> None:
    for action, text in MEANINGS.items():
        zh, sep, en = text.partition(" / ")
        assert sep and re.search(r"[\u4e00-\u9fff]", zh), action
        assert en and not re.search(r"[\u4e00-\u9fff]", en), action
    assert meaning("auth.login") == "登录（成功或失败） / a login (succeeded or failed)"
    assert meaning("no.such.action") is None


def test_docs_tables_say_what_the_table_says() -> None:
    rows = dict(ROW.findall(DOC.read_text(encoding="utf-8").split("## Actions")[1].split("\n## ")[0]))
    assert set(rows) == set(MEANINGS)
    wrong = {a: (rows[a], MEANINGS[a]) for a in rows if rows[a] != MEANINGS[a]}
    assert not wrong, f"docs/audit.md's meanings differ from jinyu.audit.actions: {wrong}"
