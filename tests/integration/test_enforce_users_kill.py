"""A kill mid-apply: an enforce process is SIGKILLed right after plex.tv dropped a share and before the store
recorded it. The next run finds the share gone (a fresh read), records it, and nothing is ever doubled:
exactly one DELETE per user, one removal notice each, and no second warning."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.run.enforce import run_enforce
from tests.fixtures.enforce_sandbox import EnforceSandbox

pytestmark = pytest.mark.slow  # each test runs and kills a real enforce process
ROOT = Path(__file__).resolve().parents[2]
DUE = ("idle 27d", "idle 29d", "idle 30d", "idle 45d", "never watched")


def run_child(sb, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.fixtures.enforce_child", "--now", sb.clock.now().isoformat(),
                           *args], cwd=ROOT, env=sb.env(), capture_output=True, text=True, timeout=300)


def mail(sb) -> Counter:
    root = sb.tmp / "outbox"
    return Counter(p.parent.name for p in root.glob("*/*.eml") if not p.parent.name.startswith("admin-"))


@pytest.mark.parametrize("kill_on, k", [("unshared", 1), ("unshared", 3), ("removed", 2)])
def test_a_run_killed_mid_removal_is_completed_by_the_next_without_doubling(tmp_path, kill_on, k):
    with EnforceSandbox(tmp_path) as sb:
        sb.ingest()
        with sb.store() as store:
            assert run_enforce(store, sb.settings(), sb.clock, apply=True).failures == 0  # the warnings
        sb.clock.advance(days=4)
        sb.ingest()
        warnings = {key: n for key, n in mail(sb).items() if key.startswith("warning-")}
        users = sorted((sb.user(n) for n in DUE), key=lambda u: u.user_id)

        killed = run_child(sb, "--kill-on", kill_on, "--kill-at", str(k))

        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        unshared = {m.user_id for m in sb.tv.mutations}
        assert unshared == {u.user_id for u in users[:k]}  # plex.tv did drop the k-th share
        recorded = {r[0] for r in sb.query("SELECT user_id FROM member_states WHERE removed_at IS NOT NULL")}
        assert recorded == {u.user_id for u in users[:k - 1 if kill_on == "unshared" else k]}

        finished = run_child(sb)

        assert finished.returncode == 0, finished.stderr[-2000:]
        result = json.loads(finished.stdout)
        assert result["refusals"] == [] and result["failures"] == 0
        deletes = Counter(r.path for r in sb.tv.requests_to("/api/", "DELETE"))
        mid = sb.world.machine_identifier
        assert deletes == Counter({f"/api/servers/{mid}/shared_servers/{u.share_id}": 1 for u in users})
        assert {r[0] for r in sb.query("SELECT user_id FROM member_states WHERE removed_at IS NOT NULL")} == \
            {u.user_id for u in users}
        now = mail(sb)
        assert all(now[key] == 1 for key in warnings)  # the day-0 warnings were not sent again
        assert sorted(int(key.split("-")[1]) for key in now if key.startswith("removal-")) == \
            sorted(u.user_id for u in users)
        assert set(now.values()) == {1}
        assert sb.query("SELECT count(*) FROM deliveries WHERE state <> 'sent'") == [(0,)]
