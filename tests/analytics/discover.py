"""Every registered query, whichever package defines it.

Domains register their named queries in `jinyu.<domain>.queries` (or a service's `jinyu.<domain>.<service>.queries`);
importing each such module here makes the golden-file and parity suites cover all of them, whatever other tests
happened to import first.
"""

from __future__ import annotations

import importlib
import pkgutil

import jinyu
from jinyu.analytics import Query, all_queries


def discover_queries() -> list[Query]:
    # Every `queries` module at any depth: a domain's services may be subpackages (jinyu.risk.statements).
    for module in pkgutil.walk_packages(jinyu.__path__, "jinyu."):
        if module.name.rsplit(".", 1)[-1] == "queries":
            importlib.import_module(module.name)
    return all_queries()
