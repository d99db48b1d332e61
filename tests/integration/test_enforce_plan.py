"""`invoke enforce` shows the user policy's plan for the sandbox's scripted users; it changes nothing."""

from datetime import datetime, timezone

import pytest

from pipeline.clock import FixedClock
from pipeline.run.enforce import plan_lines, plan_users
from pipeline.errors import MarqueeError
from pipeline.ingest.run import run_ingest
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store.db import memory_store


def ingested(with_plex=True, **overrides):
    world = generate(seed=1)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as t, PlexSandbox(world) as pms, PlexTvSandbox(world, pms_url=pms.url) as tv:
        env = {"TAUTULLI_URL": t.url, "TAUTULLI_API_KEY": world.tautulli_api_key}
        if with_plex:
            env.update(PLEX_URL=pms.url, PLEX_TOKEN=world.owner_token)
        settings = load_settings(environ=env, dotenv_path=None, overrides={
            "plex.plextv_url": tv.url, "server.timezone": world.timezone, **overrides})
        store = memory_store()
        run_ingest(store, settings, clock)
    return world, store, settings, clock


@pytest.fixture(scope="module")
def sandbox_plan():
    world, store, settings, clock = ingested(**{"email.admin_email": "ADMIN@example.org"})
    admin = next(u for u in world.users if u.note == "idle 26d")  # the admin's own friend account
    store.con.execute("UPDATE plex_users SET email = 'admin@example.org' WHERE user_id = ?", [admin.user_id])
    before = store.con.execute("SELECT count(*) FROM ingest_runs").fetchall()
    result = plan_users(store, settings, clock)
    assert store.con.execute("SELECT count(*) FROM ingest_runs").fetchall() == before  # nothing written
    return world, store, result


def kind_of(world, result, note):
    user = next(u for u in world.users if u.note == note)
    return result.plan.for_user(user.user_id).kind


@pytest.mark.parametrize("note, kind", [
    ("owner", "protect"), ("home", "protect"), ("managed", "protect"),
    ("idle 10d", "wait"), ("idle 27d", "warn"), ("idle 29d", "warn"),
    ("idle 45d", "warn"),  # never warned before: a warning first, never a removal straight away
    ("never watched", "warn"), ("welcome", "welcome"), ("grace", "welcome"),
])
def test_each_scripted_user_gets_the_expected_action(sandbox_plan, note, kind):
    world, _, result = sandbox_plan
    assert kind_of(world, result, note) == kind


def test_nobody_is_removed_on_a_first_plan_and_every_warning_promises_the_notice(sandbox_plan):
    _, _, result = sandbox_plan
    assert not result.plan.removals
    for action in result.plan.of_kind("warn"):
        assert (action.due_at - result.plan.now).days >= 3
    assert result.refusals == []


def test_the_admin_address_is_protected(sandbox_plan):
    _, store, result = sandbox_plan
    admin = store.con.execute("SELECT user_id FROM plex_users WHERE email = 'admin@example.org'").fetchall()[0][0]
    assert result.plan.for_user(admin).kind == "protect"


def test_the_plan_reads_as_lines_with_reasons(sandbox_plan):
    _, _, result = sandbox_plan
    lines = plan_lines(result)
    assert lines[0].startswith("warn") and "idle" in lines[0] and "remove at 30" in lines[0]
    assert any(line.startswith("plan: ") for line in lines)


def test_stale_data_is_refused_in_one_line():
    world, store, settings, clock = ingested()
    clock.advance(days=2)  # the last ingest is now two days old
    result = plan_users(store, settings, clock)
    assert len(result.refusals) == 1 and "ingest" in result.refusals[0]
    assert "refused: " in plan_lines(result)[-1]


def test_without_the_plex_inventory_there_is_no_plan():
    _, store, settings, clock = ingested(with_plex=False)
    with pytest.raises(MarqueeError, match="needs the Plex inventory"):
        plan_users(store, settings, clock)
