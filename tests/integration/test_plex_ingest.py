"""The Plex inventory over real HTTP: unmodified plexapi against the PMS and plex.tv sandboxes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import requests

from pipeline.errors import BadResponse, Unreachable
from pipeline.ingest.plex import PlexResult, ingest_plex
from pipeline.logs import Progress
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import SPECIAL_ARTISTS, SPECIAL_MOVIES, SPECIAL_SHOWS, generate
from pipeline.settings import load_settings
from pipeline.store.db import memory_store

NOW = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=1)


def settings_for(pms_url: str, plextv_url: str, token: str, page_size: int = 500):
    return load_settings(environ={"PLEX_URL": pms_url, "PLEX_TOKEN": token, "MARQUEE__PLEX__PLEXTV_URL": plextv_url,
                                  "MARQUEE__PLEX__PAGE_SIZE": str(page_size)}, dotenv_path=None)


@pytest.fixture
def sandbox():
    world = generate(seed=1, users=24, plays=300)
    with PlexSandbox(world) as pms, PlexTvSandbox(world) as tv:
        yield SimpleNamespace(world=world, pms=pms, tv=tv, store=memory_store(),
                              settings=settings_for(pms.url, tv.url, world.owner_token))


def run(sb, now=NOW, settings=None, **kw) -> PlexResult:
    """As run.py calls it: inside the caller's transaction."""
    with sb.store.transaction():
        return ingest_plex(sb.store, settings or sb.settings, now, **kw)


def records(sb, sql: str, *params) -> list[dict]:
    cur = sb.store.con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def listings(sb) -> list[str]:
    return [r.path for r in sb.pms.requests if r.path.startswith("/library/sections/") and r.path.endswith("/all")]


def snapshot(sb) -> dict:
    return {t: sb.store.con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("plex_server", "plex_users", "plex_sections", "plex_items")}


def utc(epoch: int | None):
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def test_full_ingest_matches_the_world(sandbox):
    sb, w = sandbox, sandbox.world
    with Progress("Plex inventory", unit="items") as progress:
        result = run(sb, progress=progress)

    with_access = [u for u in w.users if u.is_owner or u.is_home or (u.has_share and u.share_id)]
    assert result == PlexResult(users=len(with_access), sections=3, items_listed=len(w.items),
                                items_changed=len(w.items), sections_skipped=0)
    assert progress.done == progress.total == len(w.items)

    server = records(sb, "SELECT * FROM plex_server")
    assert [(s["machine_identifier"], s["name"], s["version"], s["allow_media_deletion"]) for s in server] == [
        (w.machine_identifier, w.server_name, w.version, True)]

    users = {u["user_id"]: u for u in records(sb, "SELECT * FROM plex_users")}
    assert set(users) == {u.user_id for u in with_access}
    assert [uid for uid, u in users.items() if u["is_owner"]] == [w.owner.user_id]
    for wu in with_access:
        row = users[wu.user_id]
        assert (row["is_home"], row["is_restricted"]) == (wu.is_home, wu.is_restricted), wu.note
        assert row["email"] == wu.email  # managed users have none: NULL, not ""
        assert row["first_seen_at"] == row["last_listed_at"] == NOW and row["removed_at"] is None
        if wu.is_owner:
            continue
        assert row["title"] == wu.username
        assert row["username"] == (None if wu.is_restricted else wu.username)
        assert (row["share_id"], row["invited_at"], row["accepted_at"]) == (
            wu.share_id, utc(wu.invited_at), utc(wu.accepted_at)), wu.note
        assert row["pending"] is (wu.accepted_at is None)
        assert row["all_libraries"] is wu.all_libraries
        assert row["section_ids"] == sorted(wu.section_ids), wu.note
    assert not any(u.note == "deleted" and u.user_id in users for u in w.users)  # unshared friend: no access

    sections = {s["section_id"]: s for s in records(sb, "SELECT * FROM plex_sections")}
    assert {sid: (s["title"], s["type"], s["content_changed"]) for sid, s in sections.items()} == {
        s.section_id: (s.title, s.type, str(s.updated_at)) for s in w.sections}
    top = {"movie": "movie", "show": "show", "artist": "artist"}
    for s in w.sections:
        assert sections[s.section_id]["item_count"] == len(w.section_items(s.section_id, top[s.type]))

    counts = dict(sb.store.con.execute("SELECT type, count(*) FROM plex_items GROUP BY 1").fetchall())
    expected: dict[str, int] = {}
    for it in w.items.values():
        expected[it.type] = expected.get(it.type, 0) + 1
    assert counts == expected

    stored = {r["rating_key"]: r for r in records(sb, "SELECT * FROM plex_items")}
    for rk, it in w.items.items():
        row = stored[rk]
        assert (row["section_id"], row["type"], row["title"], row["size_bytes"], row["year"]) == (
            it.section_id, it.type, it.title, it.size_bytes, it.year)
        assert (row["parent_rating_key"], row["grandparent_rating_key"], row["index"], row["parent_index"]) == (
            it.parent_rating_key, it.grandparent_rating_key, it.index, it.parent_index)
        assert (row["added_at"], row["updated_at"], row["duration_ms"]) == (
            utc(it.added_at), utc(it.updated_at), it.duration_ms)
        assert (row["guid"], row["thumb"], row["labels"]) == (it.guid, it.thumb, list(it.labels))
        if it.parent_rating_key is not None:
            assert row["parent_title"] == it.parent_title

    # Awkward titles are stored exactly as Plex has them; escaping is the renderer's job.
    titles = {r["title"] for r in stored.values()}
    assert set(SPECIAL_MOVIES + SPECIAL_SHOWS + SPECIAL_ARTISTS) <= titles

    # The media view sizes a show as the sum of its episodes, and an artist as the sum of its tracks.
    media = {r["rating_key"]: r for r in records(sb, "SELECT * FROM media")}
    for it in w.items.values():
        if it.type in ("show", "artist"):
            leaves = w.leaves(it.rating_key)
            assert media[it.rating_key]["size_bytes"] == sum(x.size_bytes for x in leaves)
            assert media[it.rating_key]["leaf_count"] == len(leaves)

    # Listing is paged by type, never item by item, and autoreload never fired a metadata fetch.
    assert not sb.pms.requests_to("/library/metadata")
    assert len(listings(sb)) == 7


def test_users_view_merges_tautulli_and_plex(sandbox):
    sb, w = sandbox, sandbox.world
    run(sb)
    blank = next(u for u in w.users if u.note == "blank name")
    gone = next(u for u in w.users if u.note == "deleted")
    kids = next(u for u in w.users if u.note == "managed")
    sb.store.con.execute(
        "INSERT INTO tautulli_users (user_id, username, friendly_name, email, is_admin, is_home_user, "
        "is_restricted, first_seen_at, last_listed_at) VALUES "
        "(?, ?, ?, ?, false, false, false, ?, ?), (?, ?, ?, ?, false, false, false, ?, ?), "
        "(?, ?, ?, NULL, false, true, true, ?, ?), (0, 'Local', 'Local', NULL, false, false, false, ?, ?)",
        [blank.user_id, blank.username, "   ", blank.email, NOW - timedelta(days=400), NOW,
         gone.user_id, gone.username, "Morgan L.", gone.email, NOW - timedelta(days=300), NOW,
         kids.user_id, kids.username, "Kids Room", NOW - timedelta(days=10), NOW,
         NOW, NOW])
    view = {r["user_id"]: r for r in records(sb, "SELECT * FROM users")}

    assert 0 not in view
    assert len(view) == len(records(sb, "SELECT user_id FROM plex_users")) + 1  # + the Tautulli-only user
    row = view[blank.user_id]  # a blank Tautulli name falls back to the plex.tv title
    assert (row["friendly_name"], row["has_access"], row["in_tautulli"]) == (blank.username, True, True)
    assert row["first_seen_at"] == NOW - timedelta(days=400)  # the earlier of both sources
    assert row["share_id"] == blank.share_id and row["invited_at"] == utc(blank.invited_at)
    row = view[gone.user_id]  # unshared on plex.tv, still in Tautulli's history
    assert (row["friendly_name"], row["has_access"], row["in_tautulli"], row["email"]) == (
        "Morgan L.", False, True, gone.email)
    row = view[kids.user_id]  # managed: no username on plex.tv, Tautulli's name wins for display
    assert (row["username"], row["friendly_name"], row["is_home"], row["is_restricted"]) == (
        kids.username, "Kids Room", True, True)
    owner = view[w.owner.user_id]
    assert owner["is_owner"] and owner["has_access"] and not owner["in_tautulli"]


def test_a_second_run_with_no_change_lists_no_section(sandbox):
    sb = sandbox
    run(sb)
    before = snapshot(sb)
    sb.pms.clear_log()
    result = run(sb, now=LATER)
    assert listings(sb) == []
    assert result == PlexResult(users=result.users, sections=3, items_listed=0, items_changed=0, sections_skipped=3)
    after = snapshot(sb)
    assert after["plex_items"] == before["plex_items"]  # not even last_listed_at moves for unlisted items
    users = records(sb, "SELECT first_seen_at, last_listed_at, removed_at FROM plex_users")
    assert {(u["first_seen_at"], u["last_listed_at"], u["removed_at"]) for u in users} == {(NOW, LATER, None)}


def test_a_deleted_and_an_added_item_relist_only_their_section(sandbox):
    sb, w = sandbox, sandbox.world
    run(sb)
    doomed = w.section_items(1, "movie")[10]
    response = requests.delete(f"{sb.pms.url}/library/metadata/{doomed.rating_key}",
                               headers={"X-Plex-Token": w.owner_token}, timeout=10)
    assert response.status_code == 200
    new_rk = max(w.items) + 1
    w.items[new_rk] = replace(doomed, rating_key=new_rk, title="Fresh & New 🍿", added_at=w.now - 60,
                              updated_at=w.now - 60)
    movies = next(s for s in w.sections if s.section_id == 1)
    movies.updated_at += 7  # what PMS does to contentChangedAt when it scans the new file in
    sb.pms.clear_log()

    result = run(sb, now=LATER)
    assert set(listings(sb)) == {"/library/sections/1/all"}
    assert (result.items_listed, result.items_changed, result.sections_skipped) == (
        len(w.section_items(1, "movie")), 2, 2)
    gone = records(sb, "SELECT removed_at, first_seen_at FROM plex_items WHERE rating_key = ?", doomed.rating_key)
    assert gone == [{"removed_at": LATER, "first_seen_at": NOW}]
    fresh = records(sb, "SELECT title, first_seen_at, removed_at FROM plex_items WHERE rating_key = ?", new_rk)
    assert fresh == [{"title": "Fresh & New 🍿", "first_seen_at": LATER, "removed_at": None}]
    media = {r[0] for r in sb.store.con.execute("SELECT rating_key FROM media").fetchall()}
    assert doomed.rating_key not in media and new_rk in media
    assert records(sb, "SELECT item_count FROM plex_sections WHERE section_id = 1") == [
        {"item_count": len(w.section_items(1, "movie"))}]

    # It comes back (restored from the trash): removed_at clears, first_seen_at is kept.
    w.items[doomed.rating_key] = doomed
    movies.updated_at += 1
    result = run(sb, now=LATER + timedelta(days=1))
    assert result.items_changed == 1
    assert records(sb, "SELECT removed_at, first_seen_at FROM plex_items WHERE rating_key = ?",
                   doomed.rating_key) == [{"removed_at": None, "first_seen_at": NOW}]


def test_a_deleted_show_takes_its_seasons_and_episodes_out_of_media(sandbox):
    sb, w = sandbox, sandbox.world
    run(sb)
    show = w.section_items(2, "show")[0]
    family = {show.rating_key} | {i.rating_key for i in w.items.values()
                                  if show.rating_key in (i.parent_rating_key, i.grandparent_rating_key)}
    requests.delete(f"{sb.pms.url}/library/metadata/{show.rating_key}",
                    headers={"X-Plex-Token": w.owner_token}, timeout=10).raise_for_status()
    sb.pms.clear_log()
    result = run(sb, now=LATER)
    assert set(listings(sb)) == {"/library/sections/2/all"} and result.items_changed == len(family)
    removed = {r[0] for r in sb.store.con.execute(
        "SELECT rating_key FROM plex_items WHERE removed_at = ?", [LATER]).fetchall()}
    assert removed == family
    assert not sb.store.con.execute("SELECT count(*) FROM media WHERE rating_key IN (SELECT unnest(?))",
                                    [sorted(family)]).fetchall()[0][0]


def test_an_unshared_user_is_marked_removed_and_starts_afresh_on_return(sandbox):
    sb, w = sandbox, sandbox.world
    run(sb)
    friend = next(u for u in w.users if u.note == "welcome")
    requests.delete(f"{sb.tv.url}/api/servers/{w.machine_identifier}/shared_servers/{friend.share_id}",
                    headers={"X-Plex-Token": w.owner_token}, timeout=10).raise_for_status()
    # Still a friend (with a share on the owner's other server, perhaps), but no access here.
    result = run(sb, now=LATER)
    row = records(sb, "SELECT removed_at, first_seen_at FROM plex_users WHERE user_id = ?", friend.user_id)
    assert row == [{"removed_at": LATER, "first_seen_at": NOW}]
    assert result.users == len(records(sb, "SELECT 1 FROM plex_users WHERE removed_at IS NULL"))
    assert records(sb, "SELECT has_access FROM users WHERE user_id = ?", friend.user_id) == [{"has_access": False}]

    friend.has_share = True
    run(sb, now=LATER + timedelta(days=1))
    # Re-invited: a new member again, first seen on their return (the policy's join date when acceptedAt is unknown).
    assert records(sb, "SELECT removed_at, first_seen_at FROM plex_users WHERE user_id = ?", friend.user_id) == [
        {"removed_at": None, "first_seen_at": LATER + timedelta(days=1)}]


def test_paging_follows_the_page_size(sandbox):
    sb, w = sandbox, sandbox.world
    settings = settings_for(sb.pms.url, sb.tv.url, w.owner_token, page_size=50)
    result = run(sb, settings=settings)
    assert result.items_listed == len(w.items)
    episodes = [r for r in sb.pms.requests_to("/library/sections/2/all") if r.query.get("type") == "4"]
    n_episodes = sum(1 for i in w.items.values() if i.type == "episode")
    assert len(episodes) == -(-n_episodes // 50)
    assert [int(r.headers["x-plex-container-start"]) for r in episodes] == list(range(0, n_episodes, 50))
    assert {r.headers["x-plex-container-size"] for r in episodes} == {"50"}


def test_plex_down_raises_unreachable_and_changes_nothing(sandbox):
    sb = sandbox
    run(sb)
    before = snapshot(sb)
    sb.pms.fail("down")
    with pytest.raises(Unreachable, match="not reachable"):
        run(sb, now=LATER)
    assert snapshot(sb) == before


def test_a_failure_midway_rolls_back_sections_already_written(sandbox):
    sb, w = sandbox, sandbox.world
    run(sb)
    before = snapshot(sb)
    for section_id, kind in ((1, "movie"), (2, "episode")):  # both sections change
        victim = w.section_items(section_id, kind)[0]
        requests.delete(f"{sb.pms.url}/library/metadata/{victim.rating_key}",
                        headers={"X-Plex-Token": w.owner_token}, timeout=10).raise_for_status()
    sb.pms.fail("down", path="/library/sections/2/all")  # after section 1 was merged
    with pytest.raises(Unreachable):
        run(sb, now=LATER)
    assert snapshot(sb) == before
    sb.pms.heal()
    result = run(sb, now=LATER)
    assert result.sections_skipped == 1 and result.items_changed == 2


def test_malformed_xml_is_a_bad_response(sandbox):
    sb = sandbox
    sb.pms.fail("malformed", path="/library/sections/1/all")
    with pytest.raises(BadResponse, match="cannot be parsed"):
        run(sb)
    assert snapshot(sb) == {t: [] for t in ("plex_server", "plex_users", "plex_sections", "plex_items")}


@pytest.mark.parametrize("where", ["pms", "plextv"])
def test_a_bad_token_is_a_bad_response_without_the_token(sandbox, where):
    sb, w = sandbox, sandbox.world
    token = "WrongToken-abcdef123456"
    if where == "pms":
        settings = settings_for(sb.pms.url, sb.tv.url, token)
    else:  # PMS takes the owner's token, plex.tv no longer does (revoked there)
        token, settings = w.owner_token, sb.settings
        sb.tv.world = replace(w, owner_token="a-token-plex.tv-still-knows")
    with pytest.raises(BadResponse) as err:
        run(sb, settings=settings)
    assert "PLEX_TOKEN" in str(err.value)
    assert token not in str(err.value) and "\n" not in str(err.value)
    assert snapshot(sb)["plex_users"] == []


def test_a_server_error_while_reading_shares_is_a_bad_response(sandbox):
    sb = sandbox
    sb.tv.fail("status", status=503, path=f"/api/servers/{sb.world.machine_identifier}/shared_servers")
    with pytest.raises(BadResponse, match="503") as err:
        run(sb)
    assert sb.world.owner_token not in str(err.value)


class ShiftingPlex(PlexSandbox):
    """A PMS that scans a new movie in while the first page of movies is on the wire."""

    def handle(self, request):
        response = super().handle(request)
        if request.path == "/library/sections/1/all" and not getattr(self, "shifted", False):
            self.shifted = True
            first = self.world.section_items(1, "movie")[0]
            self.world.items[1] = replace(first, rating_key=1, title="!!! First by title")
            next(s for s in self.world.sections if s.section_id == 1).updated_at += 1
        return response


def test_an_item_added_mid_listing_is_listed_once_now_and_fully_next_run():
    world = generate(seed=1, users=24, plays=300)
    with ShiftingPlex(world) as pms, PlexTvSandbox(world) as tv:
        sb = SimpleNamespace(world=world, pms=pms, tv=tv, store=memory_store(),
                             settings=settings_for(pms.url, tv.url, world.owner_token, page_size=50))
        result = run(sb)  # page 2 repeats the last movie of page 1
        movies = len(world.section_items(1, "movie"))
        assert sb.store.con.execute("SELECT count(*) FROM plex_items WHERE section_id = 1").fetchall() == [
            (movies - 1,)]
        assert result.items_listed == len(world.items) - 1
        sb.pms.clear_log()
        run(sb, now=LATER)
        assert set(listings(sb)) == {"/library/sections/1/all"}
        assert sb.store.con.execute("SELECT count(*) FROM plex_items WHERE section_id = 1 AND removed_at IS NULL"
                                    ).fetchall() == [(movies,)]
