"""Issue #11 item 8: Tautulli faults that were not retried, and a Plex sign-in page named for what it is.

Through the real path: the ingest stage and the Plex connection against the sandbox servers over loopback.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from pipeline.clients.plex import connect
from pipeline.clients.tautulli import MAX_RETRY_AFTER, TautulliClient
from pipeline.clock import FixedClock
from pipeline.errors import BadResponse
from pipeline.ingest.history import ingest_history
from pipeline.ingest.run import run_ingest
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import PlexSettings, load_settings
from pipeline.store.db import memory_store


@pytest.fixture(scope="module")
def base_world():
    return generate(seed=1, users=8, plays=400)


@pytest.fixture
def world(base_world):
    return copy.deepcopy(base_world)


@pytest.fixture
def tautulli(world):
    with TautulliSandbox(world) as server:
        yield server


def settings_for(world, tautulli_url, **env):
    return load_settings(environ={"TAUTULLI_URL": tautulli_url, "TAUTULLI_API_KEY": world.tautulli_api_key,
                                  "MARQUEE__TAUTULLI__PAGE_SIZE": "100", "MARQUEE__TAUTULLI__RETRIES": "2", **env},
                         dotenv_path=None)


def ingest(world, settings, sleeps):
    """The history ingest as run.py does it, with the waits recorded instead of slept."""
    store = memory_store()
    client = TautulliClient(settings.tautulli, sleep=sleeps.append)
    with store.transaction():
        result = ingest_history(store, client, settings, datetime.fromtimestamp(world.now, timezone.utc))
    return result, client


def history_requests(server):
    return [r for r in server.requests_to("/api/v2") if r.query.get("cmd") == "get_history"]


def test_a_tautulli_429_waits_retry_after_then_the_ingest_completes(world, tautulli):
    """Item 8: an HTTP 429 from Tautulli (or the proxy before it) is retried after its Retry-After."""
    tautulli.fail("status", status=429, retry_after=3, skip=1, times=1)  # the second history page
    sleeps: list[float] = []
    result, client = ingest(world, settings_for(world, tautulli.url), sleeps)
    assert result.new == len(world.plays)
    assert sleeps == [3.0]
    assert client.requests == result.pages + 1


def test_a_tautulli_429_without_retry_after_backs_off(world, tautulli):
    """Item 8: a 429 that names no wait is retried with the usual backoff."""
    tautulli.fail("status", status=429, times=2)
    sleeps: list[float] = []
    result, _ = ingest(world, settings_for(world, tautulli.url), sleeps)
    assert result.new == len(world.plays)
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]


@pytest.mark.parametrize("retry_after", [None, MAX_RETRY_AFTER * 10])
def test_a_tautulli_429_that_persists_says_rate_limited_not_check_the_url(world, tautulli, retry_after):
    """Item 8: a 429 that does not clear is named as a rate limit, never as a wrong TAUTULLI_URL."""
    tautulli.fail("status", status=429, retry_after=retry_after)
    sleeps: list[float] = []
    with pytest.raises(BadResponse) as caught:
        ingest(world, settings_for(world, tautulli.url), sleeps)
    message = str(caught.value)
    assert message.startswith("Tautulli get_history was rate-limited (HTTP 429")
    assert "TAUTULLI_URL" not in message and world.tautulli_api_key not in message
    # a wait longer than Marquee holds a run for is not waited at all; otherwise every retry is used
    assert len(history_requests(tautulli)) == (1 if retry_after else 3)
    assert len(sleeps) == (0 if retry_after else 2)


def test_a_tautulli_body_truncated_once_is_retried(world, tautulli):
    """Item 8: a history page whose connection closed halfway (no length to tell) is fetched again."""
    tautulli.fail("truncated", path="/api/v2", skip=2, times=1)  # the third page
    sleeps: list[float] = []
    result, client = ingest(world, settings_for(world, tautulli.url), sleeps)
    assert result.new == len(world.plays)
    assert len(sleeps) == 1 and client.requests == result.pages + 1


def test_a_tautulli_body_truncated_every_time_is_one_line_about_the_network(world, tautulli):
    """Item 8: retries spent on cut-off bodies end in one line that names the cause."""
    tautulli.fail("truncated", path="/api/v2")
    with pytest.raises(BadResponse, match=r"^Tautulli get_history answers were cut off \(3 attempts\); "
                                          r"check the network between Marquee and Tautulli$"):
        ingest(world, settings_for(world, tautulli.url), [])


def test_a_plex_sign_in_page_is_named_for_what_it_is(world):
    """Item 8: PLEX_URL answering with a proxy's HTML sign-in page says so, not "XML that cannot be parsed"."""
    with PlexSandbox(world) as pms, PlexTvSandbox(world) as tv:
        plex = PlexSettings(url=pms.url, token=world.owner_token, plextv_url=tv.url, timeout_seconds=10)
        pms.fail("login", times=1)
        with pytest.raises(BadResponse) as caught:
            connect(plex)
        message = str(caught.value)
        assert message.startswith(f"Plex at {pms.url} answered GET / with a sign-in page ('Sign in')")
        assert "PLEX_URL" in message and "cannot be parsed" not in message
        assert world.owner_token not in message and "\n" not in message
        assert connect(plex)[0].friendlyName == world.server_name  # the page gone, Plex answers again


def test_an_ingest_behind_a_sign_in_page_reports_it_as_the_reason_plex_was_skipped(world, tautulli):
    """Item 8: the ingest keeps Tautulli's plays and names the sign-in page as why Plex was skipped."""
    with PlexSandbox(world) as pms, PlexTvSandbox(world) as tv:
        settings = settings_for(world, tautulli.url, PLEX_URL=pms.url, PLEX_TOKEN=world.owner_token,
                                MARQUEE__PLEX__PLEXTV_URL=tv.url)
        pms.fail("login")
        summary = run_ingest(memory_store(), settings, FixedClock(datetime.fromtimestamp(world.now, timezone.utc)))
        assert summary.plays_new == len(world.plays)
        assert summary.plex_skipped.startswith(f"Plex at {pms.url} answered GET / with a sign-in page")
