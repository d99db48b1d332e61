"""What every test folder shares: the loopback-server and browser fixtures, the hypothesis budgets, and how
pytest-xdist spreads the tests over its workers.

The fixtures live in tests/fixtures/ (one module per server); a test names them as arguments and never imports
them. pms, plextv, sonarr and radarr need a `world` fixture, which the test module defines.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.fixtures.xdist_scheduling import make_scheduler, slow_first, whole_modules

pytest_plugins = [
    "tests.fixtures.arr_sandbox",   # sonarr, radarr
    "tests.fixtures.chromium",      # browser
    "tests.fixtures.discord",       # discord
    "tests.fixtures.moto",          # moto, moto_server, aws_env
    "tests.fixtures.plex_sandbox",  # pms, plextv
]

# HYPOTHESIS_PROFILE=nightly for the full search; the default keeps `python -m pytest` quick.
# ci writes no example database: it would be a file under the repository shared by the xdist workers.
settings.register_profile("ci", max_examples=50, deadline=None, database=None, print_blob=True)
settings.register_profile("nightly", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist load (pyproject.toml), except that a module with a module-scoped fixture goes to one worker whole."""
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist loadfile, worksteal, ... is obeyed
    return make_scheduler(config, log)


def pytest_collection_modifyitems(config, items):
    """Slow single tests first: xdist sends whole modules first, then single tests in this order."""
    slow_first(items, whole_modules(config.rootpath))
