"""Work every process does once, done at start rather than by the first visitor of a page.

Measured on the medium region (`benchmarks/bench_console_cold.py`: a new process per page, its first request
timed), the first request of a page in a process paid for things that are the same for every request and every
visitor, done lazily on first use:
- the data-security policy (`policy.yaml`, ~1,300 lines) parsed by PyYAML's pure-Python loader: ~0.3 s on the
  first page that protects an answer (orders, consents, claims...);
- each page's Jinja template (and the base it extends) compiled to Python: 20-60 ms per page;
- pandas imported by pyarrow on its first conversion of Python objects to Arrow (`pa.array([...])`, which checks
  whether the objects are pandas'): ~0.5 s with bytecode cached, seconds without; the chain page's first
  request paid it;
- the chain definitions (`chains.json`) parsed and validated.

`warm_process` does them at start (the app's lifespan, before the first request is accepted). Each is cached
for the life of the process by the code that uses it (`functools.cache`, Jinja's template cache), so this only
moves the work earlier: no answer changes, nothing is read from the lake or the database.
"""

from __future__ import annotations

import pyarrow as pa

from jinyu.chain import definitions
from jinyu.governance.policy import protect
from jinyu.web.render import ENV


def warm_process() -> None:
    protect.current()
    definitions.load()
    for name in ENV.list_templates(filter_func=lambda n: n.endswith(".html")):
        ENV.get_template(name)
    pa.array([0])  # pyarrow's lazy import of pandas (see the module's doc)
