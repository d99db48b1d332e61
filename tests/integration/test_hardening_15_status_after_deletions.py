"""Issue 11, item 15: `invoke status` right after `invoke enforce --apply` deleted the due items, over the sandbox
Tautulli, Plex, Sonarr and Radarr on loopback."""

from __future__ import annotations

from pipeline.run import commands
from pipeline.run.commands import guarded
from tests.fixtures.media_sandbox import MediaSandbox


def test_status_no_longer_counts_what_the_last_run_deleted(tmp_path, capsys):
    """Item 15: the queue `invoke status` shows is the one after the deletions, not the one from before them."""
    with MediaSandbox(tmp_path) as sb:
        queued = sb.queue_then_wait()
        due = sorted(rk for rk, _, at in queued if at <= sb.clock.now())
        assert len(due) >= 3
        assert guarded(commands.retention, sb.settings(), "status_lines", clock=sb.clock) == 0
        assert f"Deletion queue: {len(queued)} pending" in capsys.readouterr().out

        assert guarded(commands.enforce, sb.settings(), sb.clock, apply=True, scope="media") == 0
        assert sorted(sb.plex_deletes()) == due
        capsys.readouterr()
        assert guarded(commands.retention, sb.settings(), "status_lines", clock=sb.clock) == 0
        status = capsys.readouterr().out
        left = len(queued) - len(due)
        assert (f"Deletion queue: {left} pending" if left else "Deletion queue: empty") in status, status
        assert f"{len(due)} item" in status  # and they are counted as freed this month
