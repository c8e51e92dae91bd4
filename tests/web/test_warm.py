"""The process-wide work of a first request (jinyu.web.warm) is done when the app starts, before any request."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.chain import definitions
from jinyu.config import Settings
from jinyu.governance.policy import protect
from jinyu.web.render import ENV


def test_the_policy_definitions_and_every_template_are_ready_before_the_first_request(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    protect.current.cache_clear()
    definitions.load.cache_clear()
    ENV.cache.clear()  # type: ignore[union-attr]
    with TestClient(create_app(settings, factory=session_factory)):
        assert protect.current.cache_info().currsize == 1
        assert definitions.load.cache_info().currsize == 1
        compiled = {key[1] for key in ENV.cache}  # type: ignore[union-attr]  # (loader, name)
        pages = {name for name in ENV.list_templates() if name.endswith(".html")}
        assert {"base.html", "chains.html", "orders.html", "loans.html"} <= pages
        assert pages <= compiled


def test_pyarrows_import_of_pandas_is_done_by_the_warm_up() -> None:
    # A new process: the test run itself has long imported pandas.
    code = (
        "import sys\n"
        "from jinyu.web.warm import warm_process\n"
        "assert 'pandas' not in sys.modules, 'imported before'\n"
        "warm_process()\n"
        "assert 'pandas' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
