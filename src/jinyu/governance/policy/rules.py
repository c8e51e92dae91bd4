"""The data-security policy as values, and the pure decision: (class, roles, approval, purpose) -> action,
value -> mask.

The policy itself is data (`policy.yaml`, versioned); this module parses it strictly and answers questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Action(IntEnum):
    """What a caller gets of a value; ordered from least to most revealing."""

    WITHHOLD = 0  # null: the caller does not see the value at all
    MASK = 1  # format-preserving mask (keeps the region, the last digits, the surname)
    TOKEN = 2  # keyed pseudonym: joinable, not reversible
    CLEAR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


MASK_KINDS = ("full", "account", "name", "resident_id", "phone")


@dataclass(frozen=True)
class DataClass:
    name: str
    level: int
    label: str
    mask: str
    pfi: str | None = None
    token_domain: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    classes: frozenset[str]
    roles: frozenset[str]  # "*" matches every role
    action: Action
    approval: bool = False  # applies only with a level approval on the grant the read rests on
    # Applies only to reads made for one of these purposes (the consent purpose the read rests on); empty: any
    # read. A read that names no purpose (a regulator's, an own-data read) never meets a purpose-bound rule.
    purposes: frozenset[str] = frozenset()

    def matches(self, data_class: str, role: str, purpose: str | None = None) -> bool:
        if self.purposes and purpose not in self.purposes:
            return False
        return data_class in self.classes and ("*" in self.roles or role in self.roles)


@dataclass(frozen=True)
class FieldClass:
    """A field's class; `when` makes it depend on another field of the same record, e.g. an account owner's
    name is a person_name when owner_type is person and org_identity otherwise."""

    data_class: str
    when: tuple[str, str] | None = None
    otherwise: str | None = None

    def resolve(self, record: Mapping[str, Any] | None) -> str:
        if self.when is None or self.otherwise is None:
            return self.data_class
        # Without the record the stricter reading holds: the conditional class.
        if record is not None and str(record.get(self.when[0])) != self.when[1]:
            return self.otherwise
        return self.data_class

    @property
    def classes(self) -> tuple[str, ...]:
        return (self.data_class,) if self.otherwise is None else (self.data_class, self.otherwise)


@dataclass(frozen=True)
class Derived:
    """A value computed from classified data (a verdict, a share, a list of warning flags) is no more public
    than its sources: `sources` withhold the whole value from a reader not shown all of them in clear; `items`
    drop each list element (a flag) computed from a class the reader is not shown in clear."""

    sources: frozenset[str] = frozenset()
    items: Mapping[str, str] = field(default_factory=dict)

    @property
    def classes(self) -> frozenset[str]:
        return self.sources | frozenset(self.items.values())


@dataclass(frozen=True)
class Policy:
    version: str
    title: str
    classes: Mapping[str, DataClass]
    rules: tuple[Rule, ...]
    default: Action
    fields: Mapping[str, FieldClass]  # "Schema.field" or "field" -> class
    not_personal: frozenset[str]  # "Schema.field" or "field"
    derived: Mapping[str, Derived] = field(default_factory=dict)  # "Schema.field" -> its sources
    k_anonymity: int = 5  # minimum distinct persons per cell of an aggregate report, per group of an export
    k_max_suppressed: float = 0.05  # share of an export's rows dropped rather than coarsening further

    def field_class(self, schema: str, field: str) -> FieldClass | None:
        """The field's class rule; None when it is listed as not personal or not listed at all."""
        qualified = f"{schema}.{field}"
        if qualified in self.fields:
            return self.fields[qualified]
        if qualified in self.not_personal:
            return None
        return self.fields.get(field)

    def class_of(self, schema: str, field: str, record: Mapping[str, Any] | None = None) -> str | None:
        found = self.field_class(schema, field)
        return None if found is None else found.resolve(record)

    def is_listed(self, schema: str, field: str) -> bool:
        qualified = f"{schema}.{field}"
        return any(name in self.fields or name in self.not_personal for name in (qualified, field))

    def decide(
        self, data_class: str, roles: Iterable[str], approved_level: int = 0, purpose: str | None = None
    ) -> tuple[Action, str]:
        """The most revealing action any of the roles gets for a read made for `purpose`, and the id of the rule
        that gave it."""
        best: tuple[Action, str] = (self.default, "default")
        for role in roles:
            found = self._decide_one(data_class, role, approved_level, purpose)
            if found[0] > best[0]:
                best = found
        return best

    def _decide_one(
        self, data_class: str, role: str, approved_level: int, purpose: str | None
    ) -> tuple[Action, str]:
        level = self.classes[data_class].level
        for rule in self.rules:
            if not rule.matches(data_class, role, purpose):
                continue
            if rule.approval and approved_level < level:
                continue
            return rule.action, rule.id
        return self.default, "default"

    def needs_approval(self, data_class: str, roles: Iterable[str], purpose: str | None = None) -> bool:
        """Whether an approval on the grant would change what these roles get of the class for this purpose."""
        roles = list(roles)
        return self.decide(data_class, roles, 5, purpose)[0] > self.decide(data_class, roles, 0, purpose)[0]

    @property
    def purposes(self) -> tuple[str, ...]:
        """Every purpose some rule is bound to, in order of first mention."""
        return tuple(dict.fromkeys(p for rule in self.rules for p in sorted(rule.purposes)))


class PolicyInvalid(ValueError):
    """The policy file breaks its own format (checked at load; the service refuses to start on it)."""


def parse(
    doc: Mapping[str, Any], known_roles: Iterable[str], known_purposes: Iterable[str] | None = None
) -> Policy:
    """The policy in `doc`; roles and (when given) purposes that rules name must be known ones."""
    roles = set(known_roles) | {"*"}
    purposes = None if known_purposes is None else set(known_purposes)
    classes = {name: _data_class(name, spec) for name, spec in _mapping(doc, "classes").items()}
    rules = tuple(_rule(spec, classes, roles, purposes) for spec in doc.get("rules") or [])
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise PolicyInvalid("rule ids must be unique")
    fields = {str(k): _field_class(str(k), v) for k, v in _mapping(doc, "fields").items()}
    for name, rule in fields.items():
        if unknown := set(rule.classes) - set(classes):
            raise PolicyInvalid(f"field {name}: unknown class {sorted(unknown)}")
    not_personal = frozenset(str(n) for n in doc.get("not_personal") or [])
    derived = {str(k): _derived(str(k), v, classes) for k, v in (doc.get("derived") or {}).items()}
    if unlisted := set(derived) - not_personal:
        raise PolicyInvalid(f"derived fields must also be listed as not personal: {sorted(unlisted)}")
    both = not_personal & set(fields)
    if both:
        raise PolicyInvalid(f"both classified and not personal: {sorted(both)}")
    version = str(doc.get("version") or "")
    if not version.startswith("v"):
        raise PolicyInvalid("version must look like v2026.12.1")
    return Policy(
        version=version,
        title=str(doc.get("title") or ""),
        classes=classes,
        rules=rules,
        default=_action(str(doc.get("default", "withhold"))),
        fields=fields,
        not_personal=not_personal,
        derived=derived,
        k_anonymity=_k(doc.get("k_anonymity", 5)),
        k_max_suppressed=_share(doc.get("k_max_suppressed", 0.05)),
    )


def _k(value: Any) -> int:
    if not isinstance(value, int) or value < 1:
        raise PolicyInvalid("k_anonymity must be a whole number of at least 1")
    return value


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise PolicyInvalid("k_max_suppressed must be a share from 0 up to (not including) 1")
    return float(value)


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        raise PolicyInvalid(f"{key} must be a mapping")
    return value


def _field_class(name: str, spec: Any) -> FieldClass:
    if isinstance(spec, str):
        return FieldClass(spec)
    if isinstance(spec, Mapping) and {"class", "when", "otherwise"} == set(spec):
        when = spec["when"]
        if not (isinstance(when, Mapping) and len(when) == 1):
            raise PolicyInvalid(f"field {name}: when names one field and its value")
        ((field, value),) = when.items()
        return FieldClass(str(spec["class"]), (str(field), str(value)), str(spec["otherwise"]))
    raise PolicyInvalid(f"field {name}: a class name, or class/when/otherwise")


def _derived(name: str, spec: Any, classes: Mapping[str, DataClass]) -> Derived:
    if "." not in name:
        raise PolicyInvalid(f"derived {name}: name the schema, as Schema.field")
    if isinstance(spec, list) and spec and all(isinstance(c, str) for c in spec):
        found = Derived(sources=frozenset(spec))
    elif isinstance(spec, Mapping) and spec:
        found = Derived(items={str(k): str(v) for k, v in spec.items()})
    else:
        raise PolicyInvalid(
            f"derived {name}: a list of source classes, or a mapping of list items to classes"
        )
    if unknown := found.classes - set(classes):
        raise PolicyInvalid(f"derived {name}: unknown class {sorted(unknown)}")
    return found


def _data_class(name: str, spec: Mapping[str, Any]) -> DataClass:
    level = int(spec["level"])
    if not 1 <= level <= 5:
        raise PolicyInvalid(f"class {name}: level must be 1-5")
    mask_kind = str(spec.get("mask", "full"))
    if mask_kind not in MASK_KINDS:
        raise PolicyInvalid(f"class {name}: unknown mask {mask_kind}")
    return DataClass(name, level, str(spec["label"]), mask_kind, spec.get("pfi"), spec.get("token_domain"))


def _rule(
    spec: Mapping[str, Any], classes: Mapping[str, DataClass], roles: set[str], purposes: set[str] | None
) -> Rule:
    bound = spec.get("purposes") or []
    if not isinstance(bound, list) or not all(isinstance(p, str) for p in bound):
        raise PolicyInvalid(f"rule {spec.get('id')}: purposes must be a list of purpose codes")
    rule = Rule(
        id=str(spec["id"]),
        classes=frozenset(spec["classes"]),
        roles=frozenset(spec["roles"]),
        action=_action(str(spec["action"])),
        approval=bool(spec.get("approval", False)),
        purposes=frozenset(bound),
    )
    if unknown := rule.classes - set(classes):
        raise PolicyInvalid(f"rule {rule.id}: unknown classes {sorted(unknown)}")
    if unknown := rule.roles - roles:
        raise PolicyInvalid(f"rule {rule.id}: unknown roles {sorted(unknown)}")
    if purposes is not None and (unknown := rule.purposes - purposes):
        raise PolicyInvalid(f"rule {rule.id}: unknown purposes {sorted(unknown)}")
    return rule


def _action(name: str) -> Action:
    try:
        return Action[name.upper()]
    except KeyError:
        raise PolicyInvalid(f"unknown action {name}") from None


def mask_value(kind: str, value: str) -> str:
    """Format-preserving masks: a resident ID keeps its region (6) and last 4, a phone and an account their
    last 4, a name its surname; `full` keeps only the length's shape."""
    if kind == "resident_id":
        return _keep(value, 6, 4)
    if kind in ("phone", "account"):
        return _keep(value, 0, 4)
    if kind == "name":
        return value[:1] + "*" * (len(value) - 1) if value else value
    return "*" * min(len(value), 8) if value else value


def _keep(value: str, start: int, end: int) -> str:
    if len(value) <= start + end:
        return "*" * len(value)
    return value[:start] + "*" * (len(value) - start - end) + value[len(value) - end :]
