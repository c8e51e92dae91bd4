"""What a batch's classifiers know, as arrays (`vector.trace_many`'s classification step): the kinds' codes, the
accounts each loan's classifier may treat specially (`Marked`), and every loan's `lake.LoanClassifier` as arrays
(`Facts`), so a block of flows of many loans is classified in a few numpy steps. Split out of `vector` to keep it
small; `vector` imports these names."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from jinyu.analytics.flowindex import FlowIndex
from jinyu.risk.tracing import rules
from jinyu.risk.tracing.rules import Start
from jinyu.risk.tracing.service.lake import LoanClassifier

if TYPE_CHECKING:
    from jinyu.risk.tracing.service.vector import Shared

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclass
class Kinds:
    names: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def code(self, name: str) -> int:
        found = self.codes.get(name)
        if found is None:
            found = self.codes[name] = len(self.names)
            self.names.append(name)
        return found


def isin(keys: I64, sorted_keys: I64) -> Bool:
    if sorted_keys.shape[0] == 0:
        return np.zeros(keys.shape[0], dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.shape[0] - 1)
    found: Bool = sorted_keys[pos] == keys
    return found


@dataclass
class Marked:
    """Accounts a loan's classifier may treat specially: shared ones (every loan's), and per (loan, account)."""

    everyone: Bool | None  # per dense account; None: every account of every loan (no `marks` given)
    per_loan: I64  # sorted keys loan * n_acc + account


def marked_accounts(ix: FlowIndex, starts: Sequence[Start], n_acc: int) -> Marked:
    if any(s.marks is None for s in starts):
        return Marked(None, np.zeros(0, dtype=np.int64))
    # A container seen in more than one loan is shared (the stop accounts): looked up once for all.
    uses: dict[int, int] = {}
    for s in starts:
        for c in s.marks or ():
            uses[id(c)] = uses.get(id(c), 0) + 1
    everyone = np.zeros(n_acc, dtype=bool)
    shared: dict[int, Collection[str]] = {}
    keys_loan: list[int] = []
    keys_name: list[str] = []
    for i, s in enumerate(starts):
        for c in s.marks or ():
            if uses[id(c)] > 1 and len(starts) > 1:
                shared[id(c)] = c
            else:
                keys_name.extend(c)
                keys_loan.extend([i] * len(c))
    for c in shared.values():
        where = ix.lookup(list(c))
        everyone[where[where >= 0]] = True
    where = ix.lookup(keys_name)
    ok = where >= 0
    per_loan = np.unique(np.array(keys_loan, dtype=np.int64)[ok] * n_acc + where[ok])
    return Marked(everyone, per_loan)


# What `rules.classify_edge` makes of an arrival at an account of a category, besides relations and shells:
# a terminal kind, `_REPAYMENT` (split by the payer) or `_ORDINARY`.
_REPAYMENT, _ORDINARY = -2, -1


def _category_kind(category: str | None) -> str | int:
    if category == "loan_repayment":
        return _REPAYMENT
    if category in rules.PROHIBITED_CATEGORIES:
        return rules.PROHIBITED_CATEGORIES[category]
    if category in rules.STOP_CATEGORIES:
        return "stop"
    return _ORDINARY


@dataclass(frozen=True)
class Facts:
    """Every loan's `LoanClassifier` as arrays, so a block of flows of many loans is classified in a few numpy
    steps, not one Python call per flow: per dense account its category's kind and its bank's and parent's
    codes (the stop and prohibited accounts, the same for every loan); per loan its mode and lender; per
    (loan, account) the related rank and the shell flag. `classify` answers what each loan's classifier
    answers (`LoanClassifier.__call__`, i.e. `rules.classify_edge`); tests hold the two equal."""

    category: I64  # per dense account: a kind's code, _REPAYMENT or _ORDINARY
    bank: I64  # per dense account: code of its bank, of its bank's parent (-1: none)
    parent: I64
    lender: I64  # per loan: code of the lending bank
    return_flow: Bool  # per loan: its mode
    misuse: Bool
    rank_keys: I64  # sorted loan * n_acc + account of each loan's related accounts
    ranks: I64  # their ranks
    shell_keys: I64  # sorted loan * n_acc + account of each loan's shells
    n_acc: int
    codes: dict[str, int]  # the kinds `classify` answers

    @classmethod
    def of(
        cls, ix: FlowIndex, starts: Sequence[Start], n_acc: int, kinds: Kinds, shared: Shared | None = None
    ) -> Facts | None:
        """None unless every loan's classifier is a `LoanClassifier` over the same stop and prohibited
        accounts (then `Start.classify` is called flow by flow, as for any classifier)."""
        classifiers = [s.classify for s in starts]
        first = classifiers[0]
        if not isinstance(first, LoanClassifier):
            return None
        special = first.special
        if not all(isinstance(c, LoanClassifier) and c.special is special for c in classifiers):
            return None
        found: list[LoanClassifier] = classifiers  # type: ignore[assignment]
        banks: dict[str | None, int] = {None: -1}
        lender = np.array([banks.setdefault(c.lender, len(banks) - 1) for c in found], dtype=np.int64)
        category = np.full(n_acc, _ORDINARY, dtype=np.int64)
        bank, parent = np.full(n_acc, -1, dtype=np.int64), np.full(n_acc, -1, dtype=np.int64)
        where = ix.lookup(list(special))
        known = np.flatnonzero(where >= 0)
        if known.shape[0]:
            values = list(special.values())
            kind_of = {c: _category_kind(c) for c in {v[0] for v in values}}
            code_of = {c: k if isinstance(k, int) else kinds.code(k) for c, k in kind_of.items()}
            at = where[known]
            picked = [values[i] for i in known.tolist()]
            category[at] = [code_of[v[0]] for v in picked]
            bank[at] = [banks.setdefault(v[1], len(banks) - 1) for v in picked]
            parent[at] = [banks.setdefault(v[2], len(banks) - 1) for v in picked]
        per_loan = [c.ranks for c in found]
        known_keys = shared.rank_keys(ix, per_loan) if shared is not None else None
        rank_keys, ranks = known_keys if known_keys is not None else _keys(ix, per_loan, n_acc)
        if shared is not None and known_keys is None:
            shared.keep_rank_keys(ix, per_loan, (rank_keys, ranks))
        shell_keys, _ = _keys(ix, [c.shells for c in found], n_acc)
        names = ("pass", "returned", "servicing", "other_loan", "intermediary_repayment", "stop", "shell")
        return cls(
            category=category,
            bank=bank,
            parent=parent,
            lender=lender,
            return_flow=np.array([c.mode == "return_flow" for c in found], dtype=bool),
            misuse=np.array([c.mode == "misuse" for c in found], dtype=bool),
            rank_keys=rank_keys,
            ranks=ranks,
            shell_keys=shell_keys,
            n_acc=n_acc,
            codes={k: kinds.code(k) for k in names},
        )

    def marked(self) -> Marked:
        """The accounts of each loan for which `classify` may answer other than ("pass", not own): the stop and
        prohibited accounts (every loan's), each loan's related accounts and shells."""
        return Marked(self.category != _ORDINARY, np.union1d(self.rank_keys, self.shell_keys))

    def classify(self, loan: I64, src: I64, dst: I64, src_own: Bool) -> tuple[I64, Bool]:
        """(kind code, dst is the borrower's own) of each flow: `rules.classify_edge`'s tests, the first that
        holds deciding, applied here from the last to the first."""
        c = self.codes
        key = loan * self.n_acc + dst
        related, rank = _find(self.rank_keys, self.ranks, key)
        own = related & (rank == 1)
        src_related = isin(loan * self.n_acc + src, self.rank_keys)
        shell = isin(key, self.shell_keys)
        misuse, return_flow = self.misuse[loan], self.return_flow[loan]
        kind = np.full(loan.shape[0], c["pass"], dtype=np.int64)
        kind[misuse & shell & ~own] = c["shell"]
        category = self.category[dst]
        terminal = category >= 0
        kind[terminal] = category[terminal]
        repayment = np.flatnonzero(category == _REPAYMENT)
        if repayment.shape[0]:
            r_loan, r_dst = loan[repayment], dst[repayment]
            lender = self.lender[r_loan]
            servicing = src_own[repayment] & ((self.bank[r_dst] == lender) | (self.parent[r_dst] == lender))
            other = np.where(misuse[repayment], c["intermediary_repayment"], c["stop"])
            other = np.where(src_related[repayment], c["other_loan"], other)
            kind[repayment] = np.where(servicing, c["servicing"], other)
        kind[return_flow & related] = c["returned"]
        kind[return_flow & own & src_own] = c["pass"]
        return kind, own


def _find(sorted_keys: I64, values: I64, keys: I64) -> tuple[Bool, I64]:
    """Whether each key is among `sorted_keys` (unique), and its value there (0 if not)."""
    if sorted_keys.shape[0] == 0:
        return np.zeros(keys.shape[0], dtype=bool), np.zeros(keys.shape[0], dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.shape[0] - 1)
    found: Bool = sorted_keys[pos] == keys
    return found, np.where(found, values[pos], 0)


def _keys(ix: FlowIndex, per_loan: Sequence[Mapping[str, object]], n_acc: int) -> tuple[I64, I64]:
    """Sorted keys loan * n_acc + account of each loan's accounts in the index, and their values (as ints;
    0 where a value is not an int)."""
    loans: list[int] = []
    names: list[str] = []
    values: list[object] = []
    for i, accounts in enumerate(per_loan):
        names.extend(accounts)
        values.extend(accounts.values())
        loans.extend([i] * len(accounts))
    where = ix.lookup(names)
    ok = where >= 0
    keys = np.array(loans, dtype=np.int64)[ok] * n_acc + where[ok]
    vals = np.array([v if isinstance(v, int) else 0 for v in values], dtype=np.int64)[ok]
    order = np.argsort(keys, kind="stable")
    return keys[order], vals[order]
