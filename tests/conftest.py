"""What every test folder shares: the loopback-server and browser fixtures, and the hypothesis budgets.

The fixtures live in tests/fixtures/ (one module per server); a test names them as arguments and never imports
them. pms, plextv, sonarr and radarr need a `world` fixture, which the test module defines.
"""

from __future__ import annotations

import os

from hypothesis import settings

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
