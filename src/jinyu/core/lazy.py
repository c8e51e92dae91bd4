"""Modules imported on first use, so `jinyu <group> --help` answers without loading what the commands need.

Issue 19: each domain's CLI module imported its services at the top, and through them SQLAlchemy, DuckDB,
Arrow, FastAPI and pydantic — 3-5 s before any `--help` answered. A CLI module binds such a module with
`module(...)` (the standard library's `importlib.util.LazyLoader`): the name is bound at once, the module runs
on first attribute access, i.e. when a command body uses it."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

_SPECS: dict[str, ModuleSpec] = {}  # the modules made lazy here


def module(name: str) -> ModuleType:
    """The module `name`: the imported one if it already is, else one that executes on first attribute use."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    parent, _, child = name.rpartition(".")
    if parent and parent not in sys.modules:
        module(parent)  # a package whose __init__ imports heavy modules is itself deferred
    if parent in _SPECS:  # the parent's spec, not the module: reading a lazy module's attributes runs it
        search = _SPECS[parent].submodule_search_locations
        spec = importlib.machinery.PathFinder.find_spec(name, search)
    else:
        spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    lazy = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy
    _SPECS[name] = spec
    loader.exec_module(lazy)
    if parent:
        setattr(sys.modules[parent], child, lazy)  # as `import a.b` would, so `from a import b` finds it
    return lazy
