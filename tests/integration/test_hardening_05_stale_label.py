"""Issue 11, item 5: a stale `marquee:<user>` Plex label, and a step that fails after another acted, through the
CLI's functions against the sandbox Tautulli, Plex, plex.tv, Sonarr and Radarr on loopback."""

from __future__ import annotations

from pipeline.run import commands
from pipeline.run.commands import guarded
from tests.fixtures.media_sandbox import MediaSandbox


def stale(sb: MediaSandbox, queued: list[tuple]) -> tuple[int, str]:
    """Add a label naming nobody to one movie the seeded labels queued; (its rating key, its title)."""
    rk = next(rk for rk, kind, _ in queued if kind == "movie")
    item = sb.world.items[rk]
    item.labels = item.labels + ("marquee:ghost",)
    # As Plex records an edit: the item and its library change, so the next ingest reads them again.
    item.updated_at = max(item.updated_at + 1, sb.world.now)
    section = next(s for s in sb.world.sections if s.section_id == item.section_id)
    section.updated_at = max(section.updated_at + 1, sb.world.now)
    sb.pms.invalidate()
    return rk, item.title


def test_a_stale_label_holds_its_item_and_the_run_goes_on(tmp_path, capsys):
    """Item 5: the dry run, `invoke queue` and `enforce --apply` all exit 0; the labelled item is held and named,
    every other due item is deleted, and the users step runs as usual."""
    with MediaSandbox(tmp_path) as sb:
        queued = sb.queue_then_wait()
        rk, title = stale(sb, queued)
        sb.ingest()  # the label reaches the store
        due = sorted(k for k, _, at in queued if at <= sb.clock.now() and k != rk)

        assert guarded(commands.enforce, sb.settings(), sb.clock, scope="all") == 0
        dry = capsys.readouterr()
        assert "user plan at" in dry.out and "plan: " in dry.out  # the admin sees the user plan
        assert f"held      {title} " in dry.out and "'marquee:ghost'" in dry.out and "unknown user 'ghost'" in dry.out
        assert dry.err == ""

        assert guarded(commands.retention, sb.settings(), "queue_lines", clock=sb.clock) == 0
        listed = capsys.readouterr().out
        assert listed.startswith("Deletion queue: ") and f"Held: Plex label 'marquee:ghost' on {title}" in listed

        assert guarded(commands.enforce, sb.settings(), sb.clock, apply=True, scope="all") == 0
        applied = capsys.readouterr()
        assert sorted(sb.plex_deletes()) == due and rk not in sb.plex_deletes()
        assert f"held      {title} " in applied.out and applied.err == ""
        held = sb.query("SELECT phase, reason FROM audit WHERE subject_id = ? AND action = 'delete'", [rk])
        assert held and {phase for phase, _ in held} == {"skipped"} and "marquee:ghost" in held[-1][1]
        runs = sb.query("SELECT status FROM enforce_runs ORDER BY run_id")
        assert runs[-1] == ("ok",)


def test_a_step_that_fails_after_another_acted_says_what_was_done(tmp_path, capsys):
    """Item 5: when the media step stops on a bad retention.toml after the users step acted, the users step's
    outcome is printed and audited, the error line says which step stopped and that the one before it ran."""
    with MediaSandbox(tmp_path) as sb:
        sb.queue_then_wait()
        bad = tmp_path / "retention.toml"
        bad.write_text('[[assign]]\ntitle = "No Such Film"\nusers = ["nobody"]\n')
        settings = sb.settings(**{"retention.file": str(bad)})
        code = guarded(commands.enforce, settings, sb.clock, apply=True, scope="all")
        out = capsys.readouterr()
        assert code == 2  # the cause is configuration
        assert "user plan at" in out.out and "plan: " in out.out  # what the users step decided and did
        assert "stopped: the media step stopped: " in out.out
        errors = [line for line in out.err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and errors[0].startswith("error: the media step stopped: ")
        assert "the users step before it ran to its end" in errors[0] and "No Such Film" in errors[0]
        status, summary = sb.query("SELECT status, summary FROM enforce_runs ORDER BY run_id")[-1]
        assert status == "failed" and "media step stopped" in summary and "after the users step" in summary
        assert sb.plex_deletes() == []
