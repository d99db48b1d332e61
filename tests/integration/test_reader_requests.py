"""A reader's own Seerr requests come first in their digest, over the sandboxes (Tautulli, Plex, plex.tv, Seerr on
loopback) through `invoke build` and `invoke send`: "Your requests: X is available now, Y is approved, Z is waiting"."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser

from pipeline.clock import FixedClock
from pipeline.run import commands
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.seerr import PENDING, SeerrSandbox
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings

DAY = 86_400


def html_of(path) -> str:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return " ".join(msg.get_body(("html",)).get_content().split())


def test_a_readers_own_requests_come_first_with_what_became_of_each(tmp_path):
    world = generate(seed=5, users=24, plays=3000)
    readers = [u for u in world.users if u.email and not u.is_owner and u.has_share and u.accepted_at]
    asker, other = readers[0], readers[1]
    fresh = next(i for i in sorted(world.items.values(), key=lambda i: -i.added_at)
                 if i.type == "movie" and i.added_at >= world.now - 5 * DAY)
    old = next(i for i in sorted(world.items.values(), key=lambda i: i.added_at) if i.type == "movie")
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as pms, PlexTvSandbox(world) as tv, \
            SeerrSandbox(world) as seerr:
        me = seerr.user_for(asker.user_id)
        seerr.request(me, tmdb_id=990_010, title="Northbound", year=2026)                       # approved, on its way
        seerr.request(me, tmdb_id=990_011, title="Harbour Lights", year=2027, media_type="tv", status=PENDING)
        seerr.request(me, fresh.rating_key)                                                    # in Plex since days
        seerr.request(me, old.rating_key)                     # available for long: no news, not listed
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE__PLEX__PLEXTV_URL": tv.url, "SEERR_URL": seerr.url,
            "SEERR_API_KEY": seerr.api_key, "MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None,
            overrides={"server.timezone": world.timezone, "server.name": world.server_name, "newsletter.backfill": 0,
                       "email.from_address": "newsletter@example.org", "email.outbox_dir": str(tmp_path / "outbox"),
                       "site.posters": False, "site.output_dir": str(tmp_path / "output")})
        with redirect_stdout(io.StringIO()):
            commands.build(settings, clock)
            commands.send(settings, clock)  # `invoke send`: a dry run, into the outbox
        titles = [(r.method, r.path) for r in seerr.requests if r.path.startswith(("/api/v1/movie", "/api/v1/tv"))]
    assert titles == [("GET", "/api/v1/movie/990010"), ("GET", "/api/v1/tv/990011")]  # only what Plex lacks
    (folder,) = (tmp_path / "outbox" / "dry-run").iterdir()
    mine, theirs = html_of(folder / f"{asker.email}.eml"), html_of(folder / f"{other.email}.eml")
    line = f"{fresh.title} is available now, Northbound is approved, Harbour Lights is waiting."
    assert "Your requests" in mine and line in mine
    assert mine.index("Your requests") < mine.index("On " + world.server_name)  # first in the e-mail
    assert old.title + " is" not in mine
    assert "Your requests" not in theirs
