"""Every registered query, whichever package defines it.

Domains register their named queries in `jinyu.<domain>.queries`; importing each such module here makes
the golden-file and parity suites cover all of them, whatever other tests happened to import first.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import jinyu
from jinyu.analytics import Query, all_queries


def discover_queries() -> list[Query]:
    for package in pkgutil.iter_modules(jinyu.__path__):
        if not package.ispkg:
            continue
        name = f"jinyu.{package.name}.queries"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return all_queries()
