"""protect(): apply the data-security policy to an answer before it leaves a read path.

Every read path (API, CLI, exports) builds its answer model and passes it here with the caller: each field is
looked up by class (`Schema.field`, then `field`) and cleared, masked, tokenized or withheld per the caller's
roles, the approval level of the grant the read rests on and the purpose the read is made for. Nested models
and lists are walked; values derived from classified data (policy `derived`) follow their sources.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from jinyu.consent.rules import Purpose
from jinyu.core.auth import Principal, Role
from jinyu.core.privacy import Keys, pseudonymize
from jinyu.governance.policy.rules import Action, Derived, FieldClass, Policy, mask_value, parse

M = TypeVar("M")


@functools.cache
def current() -> Policy:
    """The policy shipped with this version (policy.yaml next to this module), parsed once."""
    text = resources.files(__package__).joinpath("policy.yaml").read_text(encoding="utf-8")
    return parse(yaml.safe_load(text), [r.value for r in Role], [p.value for p in Purpose])


def version() -> str:
    """The policy version answers are protected under (audit entries name it)."""
    return current().version


@dataclass(frozen=True)
class Reader:
    """Who reads, and on what basis: the approval level recorded on the grant the read rests on (0: none)."""

    principal: Principal
    # Needed only where a rule tokenizes; a read path without it that meets a `token` rule fails loudly.
    pseudonym_key: Keys = b""
    approved_level: int = 0
    # The consent purpose the read rests on (None: a read on no grant, e.g. a regulator's or an own-data read).
    purpose: str | None = None
    # Filled while protecting: the classes this answer withheld, for the caller's audit entry.
    withheld: set[str] = field(default_factory=set)
    # Decisions made for this reader, by class: the same class recurs on every line of an answer.
    decisions: dict[str, Action] = field(default_factory=dict)

    @property
    def roles(self) -> list[str]:
        return [r.value for r in self.principal.roles]

    def action(self, policy: Policy, data_class: str) -> Action:
        found = self.decisions.get(data_class)
        if found is None:
            found = self.decisions[data_class] = policy.decide(
                data_class, self.roles, self.approved_level, self.purpose
            )[0]
        return found


Plan = tuple[tuple[str, FieldClass | None, Derived | None], ...]
# Each answer model's fields with their class rules, worked out once per (model, policy).
_PLANS: dict[tuple[type[BaseModel], int], Plan] = {}


def _plan(cls: type[BaseModel], policy: Policy) -> Plan:
    key = (cls, id(policy))
    plan = _PLANS.get(key)
    if plan is None:
        schema = cls.__name__.split("[")[0]
        plan = _PLANS[key] = tuple(
            (name, policy.field_class(schema, name), policy.derived.get(f"{schema}.{name}"))
            for name in cls.model_fields
        )
    return plan


def protect(answer: M, reader: Reader, policy: Policy | None = None) -> M:
    """A copy of the answer as this reader may see it (models, lists and dicts of models)."""
    return _walk(answer, reader, policy or current())  # type: ignore[no-any-return]


def _walk(value: Any, reader: Reader, policy: Policy) -> Any:
    if isinstance(value, BaseModel):
        return _model(value, reader, policy)
    if isinstance(value, (list, tuple)):
        walked = [_walk(v, reader, policy) for v in value]
        if all(w is v for w, v in zip(walked, value, strict=True)):
            return value  # nothing changed: keep the original (and spare the parent a copy)
        return walked if isinstance(value, list) else tuple(walked)
    return value


def _model(model: BaseModel, reader: Reader, policy: Policy) -> BaseModel:
    update: dict[str, Any] = {}
    record = model.__dict__
    for name, rule, derived in _plan(type(model), policy):
        value = record.get(name)
        if derived is not None and value is not None:
            shown = _derived(value, derived, reader, policy)
            if shown is not value:
                update[name] = shown
            continue
        if rule is None or value is None:
            if isinstance(value, (BaseModel, list, tuple)):
                walked = _walk(value, reader, policy)
                if walked is not value:
                    update[name] = walked
            continue
        data_class = rule.resolve(record)
        action = reader.action(policy, data_class)
        if action is Action.CLEAR:
            if isinstance(value, (BaseModel, list, tuple)):
                walked = _walk(value, reader, policy)
                if walked is not value:
                    update[name] = walked
            continue
        shown = _apply(action, data_class, value, reader, policy)
        if shown is None:
            reader.withheld.add(data_class)
        if shown is not value:
            update[name] = _walk(shown, reader, policy)
    return model.model_copy(update=update) if update else model


def _derived(value: Any, derived: Derived, reader: Reader, policy: Policy) -> Any:
    """A derived value as this reader may see it: withheld unless every source class is shown in clear; a
    list loses the items computed from a class not shown in clear."""
    hidden = {c for c in derived.classes if reader.action(policy, c) is not Action.CLEAR}
    if not hidden:
        return value
    if derived.sources & hidden:
        reader.withheld.update(derived.sources & hidden)
        return None
    if not isinstance(value, list):
        return value
    dropped = {derived.items[str(v)] for v in value if derived.items.get(str(v)) in hidden}
    if not dropped:
        return value
    reader.withheld.update(dropped)
    return [v for v in value if derived.items.get(str(v)) not in hidden]


def _apply(action: Action, data_class: str, value: Any, reader: Reader, policy: Policy) -> Any:
    if action is Action.CLEAR:
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        shown = [_apply(action, data_class, v, reader, policy) for v in value]
        return None if action is Action.WITHHOLD else shown
    if action is Action.WITHHOLD or not isinstance(value, str):
        # Only text has a mask or a token; a number, date or structure under mask/token is withheld.
        return None
    spec = policy.classes[data_class]
    if action is Action.MASK:
        return mask_value(spec.mask, value)
    if value.startswith("pt_"):  # already a pseudonym: tokenizing it again would break joins
        return value
    if not reader.pseudonym_key:
        raise RuntimeError(f"policy tokenizes {data_class} but this read path passed no pseudonym key")
    return pseudonymize(reader.pseudonym_key, value, spec.token_domain or data_class)
