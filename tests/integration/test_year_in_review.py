"""The year in review end to end: the sandbox's 2026 ingested over loopback, frozen by `build`, sent by `send`.

The yearly numbers are checked against SQL written here from the raw history, not the staging macros.
"""

from collections import Counter, defaultdict
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import boto3
import pytest
import requests

from pipeline.render.site.generate import render_site
from pipeline.run import commands
from pipeline.run.build import build_site
from pipeline.stats.snapshots import list_snapshots, load_snapshot
from pipeline.store import open_store
from tests.fixtures.year_sandbox import SENDER, year_sandbox

KEY = "yearly-2026"

# A play is a session (resumed parts share a reference_id), dated by its first part, as get_home_stats groups.
SESSIONS = """
    SELECT coalesce(nullif(reference_id, 0), play_id) AS session, user_id, media_type,
           min(started_at) AS started, sum(coalesce(played_seconds, 0)) AS seconds,
           arg_min(CASE media_type WHEN 'movie' THEN 'movie|' || coalesce(nullif(full_title, ''), title) || '|' || year
                                   WHEN 'episode' THEN 'show|' || grandparent_rating_key
                                   WHEN 'track' THEN 'artist|' || coalesce(nullif(original_title, ''), grandparent_title)
                   END, started_at) AS title_key,
           arg_min(grandparent_title, started_at) AS show
    FROM tautulli_history
    WHERE started_at >= ? AND started_at < ?
    GROUP BY ALL
"""


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("year")
    with year_sandbox(tmp) as (settings, clock, world):
        with open_store(settings()) as store:
            first = build_site(store, settings(), clock)
            again = build_site(store, settings(), clock)
            snapshot = load_snapshot(store, KEY)
            rows = [r for r in store.records("issues/all_issues") if r["issue_key"] == KEY]
            meta = next(r for r in list_snapshots(store, "yearly") if r["issue_key"] == KEY)
            bounds = [meta["starts_at"], meta["ends_at"]]
            sessions = store.con.execute(f"SELECT * FROM ({SESSIONS})", bounds).fetchall()
            tz = settings().server.timezone
            days = store.con.execute(
                f"SELECT user_id, CAST(timezone(?, started) AS DATE) AS day, sum(seconds) FROM ({SESSIONS}) "
                "WHERE user_id <> 0 GROUP BY ALL", [tz, *bounds]).fetchall()
        yield {"settings": settings, "clock": clock, "world": world, "first": first, "again": again,
               "snapshot": snapshot, "sessions": sessions, "days": days, "tmp": tmp,
               "rows": rows}


def test_the_first_build_after_the_year_freezes_it_once(year):
    assert KEY in year["first"].freeze.frozen
    assert KEY not in year["again"].freeze.frozen
    assert year["first"].site.pages[KEY] == "issues/2026/index.html"
    assert year["snapshot"]["period"]["label"] == "2026 in review"


def test_hours_per_reader_match_the_history(year):
    seconds = Counter()
    for _, uid, _, _, secs, _, _ in year["sessions"]:
        if uid != 0:
            seconds[uid] += secs
    users = year["snapshot"]["users"]
    assert {int(uid): u["totals"]["seconds"] for uid, u in users.items() if u["totals"]["plays"]} == dict(seconds)
    assert year["snapshot"]["totals"]["seconds"] == sum(s[4] for s in year["sessions"])


def test_top_shows_of_the_year_match_the_history(year):
    per_show = Counter()
    names = {}
    for _, _, kind, _, secs, key, show in year["sessions"]:
        if kind == "episode":
            per_show[key] += secs
            names[key] = show
    expected = [names[k] for k, _ in sorted(per_show.items(), key=lambda kv: -kv[1])[:3]]
    ours = [r["title"] for r in year["snapshot"]["top"]["shows"]["by_hours"][:3]]
    assert ours == expected


def test_the_longest_day_of_each_reader_matches_the_history(year):
    best = defaultdict(int)
    for uid, _, secs in year["days"]:
        best[uid] = max(best[uid], secs)
    extra = year["snapshot"]["year"]["users"]
    assert {int(uid): u["binges"]["best_day_seconds"] for uid, u in extra.items() if "binges" in u} == dict(best)


def test_each_readers_twin_shares_the_most_titles(year):
    titles = defaultdict(set)
    for _, uid, _, _, _, key, _ in year["sessions"]:
        if uid != 0 and key:
            titles[uid].add(key)
    extra = year["snapshot"]["year"]["users"]
    checked = 0
    for uid, mine in titles.items():
        others = [(len(mine & theirs), len(mine & theirs) / len(mine | theirs), -other)
                  for other, theirs in titles.items() if other != uid and mine & theirs]
        if not others:
            continue
        shared, _, minus_other = max(others)
        twin = extra[str(uid)]["cowatchers"][0]
        assert (twin["other_id"], twin["shared"]) == (-minus_other, shared)
        checked += 1
    assert checked >= 10


def test_a_reader_with_a_year_has_the_wrapped_numbers(year):
    extra = year["snapshot"]["year"]["users"]
    busy = max(extra.values(), key=lambda u: sum(g["seconds"] for g in u["genres"]))
    assert busy["genres"] and busy["top"]["movie"] and busy["highlights"]["first_title"]
    assert 1 <= busy["highlights"]["top_percent"] <= 100
    assert len(year["snapshot"]["year"]["months"]) == 12 and len(year["snapshot"]["year"]["library"]) == 12


def _subjects(moto) -> Counter:
    raw = requests.get(f"{moto}/moto-api/data.json", timeout=30).json()["ses"]["RawMessage"]
    found = Counter()
    for m in raw:
        msg = message_from_bytes(m["raw_data"].encode())
        subject = str(make_header(decode_header(msg["Subject"])))
        for address in m["destinations"]:
            found[(address.lower(), "2026 in review" in subject)] += 1
    return found


def test_send_delivers_the_year_in_review_once_as_its_own_email(year, moto):
    boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").create_email_identity(EmailIdentity=SENDER)
    settings = year["settings"](**{"email.backend": "ses", "ses.endpoint_url": moto, "ses.max_send_rate": 500})
    commands.send(settings, year["clock"], apply=True)
    first = _subjects(moto)
    yearly = {a for (a, is_year), n in first.items() if is_year}
    weekly = {a for (a, is_year), n in first.items() if not is_year}
    assert yearly and yearly == weekly and set(first.values()) == {1}
    commands.send(settings, year["clock"], apply=True)
    assert _subjects(moto) == first  # the ledger: nobody gets either issue twice
    later = type(year["clock"])(year["clock"].now() + timedelta(days=40))
    with open_store(settings) as store:
        from pipeline.run.send_issue import due_issue_keys
        assert due_issue_keys(store, settings, later) == ["weekly-2026-W53"]


def _public_text(out) -> str:
    """The yearly page and every chart it ships, as text (SVG labels included)."""
    page = (out / "issues" / "2026" / "index.html").read_text(encoding="utf-8")
    return page + "".join(p.read_text(encoding="utf-8") for p in (out / "images" / "charts" / "2026").glob("*.svg"))


@pytest.mark.parametrize("names", ["initials", "hidden", "friendly"])
def test_the_public_yearly_page_names_nobody_beyond_site_names_and_no_twin(year, names):
    settings = year["settings"](**{"site.names": names, "site.output_dir": str(year["tmp"] / f"out-{names}"),
                                   "data.dir": str(year["tmp"] / f"data-{names}")})
    render_site(settings, year["rows"])
    text = _public_text(settings.site.output_dir)
    people = [u for u in year["world"].users if u.friendly_name and " " in u.friendly_name.strip()]
    full = [u.friendly_name for u in people if u.friendly_name in text]
    if names == "friendly":
        assert full  # the top viewers list may name them: site.names allows it
        graph = next((settings.site.output_dir / "images" / "charts" / "2026").glob("cowatch-*.svg"))
        assert not [u.friendly_name for u in people if u.friendly_name in graph.read_text(encoding="utf-8")]  # initials
    else:
        assert full == []
    assert "twin" not in text.lower()
    assert [u.email for u in year["world"].users if u.email and u.email in text] == []
    assert ("Who watched with whom" in text) is (names != "hidden")


def test_only_the_admins_copy_says_what_retention_and_enforcement_did(year):
    from pipeline.render.email.message import Recipient
    from pipeline.render.email.notice import DigestRenderer

    settings = year["settings"]()
    renderer = DigestRenderer(year["snapshot"], settings, images=None, clock=year["clock"])
    uid = next(u for u, v in year["snapshot"]["users"].items() if v["totals"]["plays"])
    reader = renderer.render(Recipient("reader@example.org", int(uid), "Reader")).mime.decode()
    admin = renderer.render(Recipient("admin@example.org", None, "Admin", kind="admin")).mime.decode()
    assert "Retention deleted" in admin and "Retention deleted" not in reader
    assert "Retention deleted" not in _public_text(year["tmp"] / "output")


def test_a_readers_wrapped_top_titles_open_in_plex(year):
    """Issue 12 on the yearly e-mail: each of a reader's top movies and shows links to its Plex page."""
    from pipeline.render.email.year import year_part
    from pipeline.render.issue_view import namer_for
    from pipeline.tokens import plex_url

    snapshot = year["snapshot"]
    machine = snapshot["plex"]["machine_id"]
    uid, extra = max(year["snapshot"]["year"]["users"].items(), key=lambda kv: len(kv[1]["top"]["movie"]))
    part = year_part(snapshot, int(uid), namer_for(snapshot, "initials", []))
    movies = next(g for g in part["lists"] if g["name"] == "Movies")
    assert [r["url"] for r in movies["rows"]] == [plex_url(machine, r["rating_key"]) for r in extra["top"]["movie"]]
    assert all(r["url"] == "" for g in part["lists"] if g["name"] == "Genres" for r in g["rows"])
