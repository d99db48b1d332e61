"""Issue 12: an issue's titles open in Plex (app.plex.tv, the server's machine id, the item's key), in the digest
and on the site; the machine id travels ingest -> store -> snapshot -> render, and an older snapshot has none."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.clock import FixedClock
from pipeline.run import commands
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.stats.periods import latest_complete
from pipeline.store import open_store
from pipeline.tokens import plex_url

SCRIPT_TITLE = "<script>alert(1)</script>"
SENDER = "newsletter@example.org"


class Links(HTMLParser):
    """Every <a href> with the text inside it, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            self._open.append([dict(attrs).get("href") or "", ""])

    def handle_data(self, data: str) -> None:
        for link in self._open:
            link[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, text.strip()))


def links_in(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.links


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Ingest Tautulli, Plex and plex.tv over loopback, `build` the issue and the site, `send` a dry run."""
    tmp = tmp_path_factory.mktemp("plex-links")
    world = generate(seed=7, users=12, plays=1500, days=30)
    now = datetime.fromtimestamp(world.now, timezone.utc)
    period = latest_complete("weekly", now, world.timezone)
    movie = max((i for i in world.items.values() if i.type == "movie"), key=lambda i: i.rating_key)
    movie.title = SCRIPT_TITLE  # newly added this week, with a title that is HTML
    movie.added_at = int((period.start + timedelta(days=2)).timestamp())
    clock = FixedClock(now)
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as pms, PlexTvSandbox(world, pms_url=pms.url) as tv:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE__PLEX__PLEXTV_URL": tv.url,
            "MARQUEE_DATA_DIR": str(tmp / "data")}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "server.name": world.server_name, "newsletter.backfill": 0,
            "site.output_dir": str(tmp / "output"), "site.posters": False, "email.from_address": SENDER,
            "email.outbox_dir": str(tmp / "outbox"), "email.images": "hosted"})
        commands.build(settings, clock)
        commands.send(settings, clock)
    with open_store(settings) as store:
        snapshot = json.loads(store.con.execute("SELECT snapshot FROM issues WHERE period_key = ?",
                                                [period.key]).fetchone()[0])
    return world, movie, settings, snapshot, tmp


def test_the_snapshot_freezes_the_servers_machine_id_from_plex(built):
    world, movie, _, snapshot, _ = built
    assert snapshot["plex"]["machine_id"] == world.machine_identifier
    assert movie.rating_key in snapshot["plex"]["in_plex"]
    assert any(i["rating_key"] == movie.rating_key for i in snapshot["added"]["items"])


def test_a_new_title_opens_in_plex_from_the_site(built):
    world, movie, settings, snapshot, _ = built
    out = Path(settings.site.output_dir)
    page = next((out / "issues").glob("*/index.html")).read_text(encoding="utf-8")
    want = plex_url(world.machine_identifier, movie.rating_key)
    assert (want, SCRIPT_TITLE) in links_in(page)  # the parser unescapes: the link text is the title as text
    assert SCRIPT_TITLE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the other new titles too, each to its own key
    plex_links = {h for h, _ in links_in(page) if h.startswith("https://app.plex.tv/")}
    added = [i for i in snapshot["added"]["items"] if i["kind"] == "movie"][:5]
    assert {plex_url(world.machine_identifier, i["rating_key"]) for i in added} <= plex_links


def test_a_new_title_opens_in_plex_from_the_digest(built):
    world, movie, _, _, tmp = built
    mails = sorted((tmp / "outbox" / "dry-run").rglob("*.eml"))
    assert mails, "send wrote no digest"
    msg = BytesParser(policy=policy.default).parsebytes(mails[0].read_bytes())
    html = msg.get_body(("html",)).get_content()
    assert (plex_url(world.machine_identifier, movie.rating_key), SCRIPT_TITLE) in links_in(html)
    assert SCRIPT_TITLE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_older_snapshot_without_a_machine_id_builds_without_plex_links(built, tmp_path):
    from pipeline.render.site.generate import render_site

    _, _, settings, snapshot, _ = built
    older = {k: v for k, v in snapshot.items() if k != "plex"}
    site = settings.model_copy(update={"site": settings.site.model_copy(update={"output_dir": str(tmp_path)})})
    render_site(site, [older])
    page = next((tmp_path / "issues").glob("*/index.html")).read_text(encoding="utf-8")
    assert "app.plex.tv" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_readers_own_titles_open_in_plex_from_their_digest(built):
    """The personal part links too: "Your most watched" and "Watched together", each to its own key."""
    world, _, _, snapshot, tmp = built
    by_email = {u.email.lower(): u for u in world.users if u.email}
    checked = 0
    for mail in sorted((tmp / "outbox" / "dry-run").rglob("*.eml")):
        msg = BytesParser(policy=policy.default).parsebytes(mail.read_bytes())
        user = by_email.get(str(msg["To"].addresses[0].addr_spec).lower())
        mine = (snapshot["users"].get(str(user.user_id)) if user else None) or {}
        if not mine.get("top_titles") or not mine.get("shared_titles"):
            continue
        html = msg.get_body(("html",)).get_content()
        own, together = html.index("Your most watched"), html.index("Watched together")
        top, shared = mine["top_titles"][0], mine["shared_titles"][0]
        assert (plex_url(world.machine_identifier, top["rating_key"]), top["title"]) in links_in(html[own:together])
        after = html[together:].split("</td>")[0]  # the personal part's own "Watched together" rows
        assert (plex_url(world.machine_identifier, shared["rating_key"]), shared["title"]) in links_in(after)
        checked += 1
    assert checked, "no reader had both their own top titles and titles watched together"


def test_site_plex_links_off_leaves_the_machine_id_off_the_site(built, tmp_path):
    """site.plex_links = false: the public archive shows no app.plex.tv link, so no machine id either."""
    from pipeline.render.site.generate import render_site

    world, movie, settings, snapshot, _ = built
    site = settings.model_copy(update={"site": settings.site.model_copy(update={
        "output_dir": str(tmp_path), "plex_links": False})})
    leaving = [{"title": "Heat", "year": 1995, "detail": "", "leaving_on": None,
                "plex": plex_url(world.machine_identifier, movie.rating_key)}]
    render_site(site, [snapshot], leaving=leaving)
    pages = [p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.html")]
    assert pages and not [p for p in pages if world.machine_identifier in p or "app.plex.tv" in p]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in p for p in pages)  # the titles are still there
