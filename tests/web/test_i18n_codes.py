"""Codes a newcomer met as English on Chinese pages (2026-12-07 night walk, h-bq): a statement line's place, the
statement verdicts, joint-modelling job states and the sample product's liabilities, in the visitor's language;
a code without words stays as it is (never a text key)."""

from __future__ import annotations

from jinyu.web.i18n import code_text, place


def test_a_csv_line_is_placed_in_words_and_an_xml_path_as_it_is() -> None:
    assert place("line 12", "zh") == "第 12 行"
    assert place("line 12", "en") == "line 12"
    assert place("Stmt/Ntry[3]", "zh") == "Stmt/Ntry[3]"
    assert place("line 12/amount", "zh") == "line 12/amount"  # a field of a line: as the check names it


def test_codes_in_words_or_as_they_are() -> None:
    assert code_text("verdict_", "suspicious", "zh") == "可疑"
    assert code_text("verdict_", "genuine", "en") == "genuine"
    assert code_text("job_", "declared", "zh") == "已申报"
    assert code_text("liability_", "inlist", "zh") == "医保目录内住院医疗费用"
    assert code_text("liability_", "dental", "zh") == "dental"  # another product's liability
    assert code_text("verdict_", None, "zh") == "—"
