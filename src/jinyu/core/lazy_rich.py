"""Defer `rich.markdown` and `rich.traceback` until something uses them (`jinyu <group> --help` in < 0.5 s).

Typer's help renderer (`typer.rich_utils`) imports `Markdown` and `Traceback` at module level; those modules
import markdown_it and pygments, about a third of the CPU of every `jinyu ... --help`, though this CLI renders
no Markdown and shows a rich traceback only on an unexpected error. `defer()` (called by `jinyu.cli` before
Typer is imported) puts a stand-in module under each name whose `Markdown` / `Traceback` is a proxy class:
calling it, or reading any attribute of it (`Traceback.from_exception`), imports the real module in place of
the stand-in and answers with the real class. Any other attribute of the stand-in imports the real module
too. Nothing changes when the real modules are already imported. `tests/test_cli_help.py` holds both: help
without markdown_it/pygments, and the proxies answering with the real classes.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _real(module: str) -> types.ModuleType:
    current = sys.modules.get(module)
    if isinstance(current, _Deferred):
        del sys.modules[module]
        real = importlib.import_module(module)
        parent, _, child = module.rpartition(".")
        setattr(sys.modules[parent], child, real)
        return real
    return importlib.import_module(module)


class _ProxyMeta(type):
    _module: str
    _name: str

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return getattr(_real(cls._module), cls._name)(*args, **kwargs)

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):  # typing's probes (`Markdown | Text` in annotations): not a use
            raise AttributeError(attr)
        return getattr(getattr(_real(cls._module), cls._name), attr)


class _Deferred(types.ModuleType):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(module)
        self.__dict__[name] = _ProxyMeta(name, (), {"_module": module, "_name": name})

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_real(self.__name__), attr)


def defer() -> None:
    for module, name in DEFERRED.items():
        if module not in sys.modules:
            sys.modules[module] = _Deferred(module, name)
