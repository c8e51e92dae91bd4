"""Consent rules: what an authorization grant covers and when it is in force (pure)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

MAX_VALIDITY = dt.timedelta(days=3 * 366)


class Scope(StrEnum):
    """Named parts of an enterprise's data a grant may open to a bank."""

    REGISTRATION = "registration"
    TAX = "tax"
    HEADCOUNT = "headcount"
    PATENTS = "patents"
    JUDICIAL = "judicial"
    ACCOUNTS = "accounts"
    STATEMENTS = "statements"
    IP = "ip"  # patents, trademarks and copyrights (the credit card's IP section)
    PENALTIES = "penalties"  # administrative penalties


class Purpose(StrEnum):
    CREDIT_ASSESSMENT = "credit_assessment"
    LOAN_REVIEW = "loan_review"
    POST_LOAN_MONITORING = "post_loan_monitoring"
    STATEMENT_VERIFICATION = "statement_verification"
    FINANCING_MATCHMAKING = "financing_matchmaking"


class GrantState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


def validity_problem(valid_from: dt.datetime, valid_until: dt.datetime, now: dt.datetime) -> str | None:
    if valid_until <= valid_from:
        return "截止时间必须晚于开始时间 / valid_until must be after valid_from"
    if valid_until <= now:
        return "截止时间必须在将来 / valid_until must be in the future"
    if valid_until - valid_from > MAX_VALIDITY:
        return "授权期限最长三年 / a grant lasts at most three years"
    return None


def in_force(state: str, valid_from: dt.datetime, valid_until: dt.datetime, at: dt.datetime) -> bool:
    return state == GrantState.ACTIVE and valid_from <= at < valid_until


def covers(scopes: list[str], purpose: str, scope: Scope, wanted_purpose: Purpose) -> bool:
    return scope.value in scopes and purpose == wanted_purpose.value
