"""Issue 11, item 3: control characters in titles and names never break a build or a send.

One \\x0b in a title made the feed generator raise, vl-convert abort the whole process (SIGABRT) and, once
frozen, kept every later build broken. These tests run the real CLI (`invoke build`, `invoke send`) in a
child process, so an abort is a failed test and not a dead test run.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from markupsafe import escape

from pipeline.run import commands
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.stats.periods import parse_period
from pipeline.stats.snapshots import list_snapshots, load_snapshot, save_snapshot
from pipeline.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DIRT = "\x0b\x1b[1m\x0c\x00\x85\ufffe"  # vertical tab, escape, form feed, NUL, NEL (C1), a noncharacter
BIDI = "\u202e"                           # RIGHT-TO-LEFT OVERRIDE
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
SENDER = "newsletter@example.org"


def dirty_world():
    """A small world for this very hour (the CLI runs on the real clock) with dirt in titles and names."""
    world = generate(seed=11, users=10, plays=1500, days=40, now=int(time.time()) // 3600 * 3600)
    for item in world.items.values():
        if item.type in ("movie", "show", "episode", "artist"):
            item.title = f"{item.title}{DIRT}"
        if item.type == "episode":
            item.grandparent_title = f"{item.grandparent_title}{DIRT}"
    for user in world.users:
        user.friendly_name = f"{BIDI}{user.friendly_name}\x1b"
    world.sections[0].title = f"Movies{DIRT}"
    return world


def env_for(data: Path, out: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    env.update(MARQUEE_DATA_DIR=str(data), MARQUEE__SITE__OUTPUT_DIR=str(out / "site"),
               MARQUEE__EMAIL__OUTBOX_DIR=str(out / "outbox"), MARQUEE__EMAIL__FROM_ADDRESS=SENDER,
               MARQUEE__EMAIL__FROM_NAME=f"News{BIDI}\x0b letter", MARQUEE__NEWSLETTER__BACKFILL="1",
               MARQUEE__SERVER__NAME=f"Casa\x0b{BIDI}Cinema\x1b", PYTHONPATH=str(ROOT), **extra)
    return env


def invoke(env: dict, *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, f"invoke {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr and "panicked" not in out.stderr, out.stderr
    return out


def assert_clean_output(out: Path) -> int:
    """Every file the build and the send wrote is free of control characters; return the .eml count."""
    texts = [p for p in (out / "site").rglob("*") if p.suffix in (".html", ".xml", ".svg", ".json", ".txt")]
    assert any(p.name == "issues.atom.xml" for p in texts)
    for path in texts:
        bad = CONTROL.search(path.read_text(encoding="utf-8"))
        assert bad is None, f"{path.relative_to(out)} holds {bad.group()!r}"
    mails = sorted((out / "outbox" / "dry-run").rglob("*.eml"))
    assert mails
    for path in mails:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for name in ("From", "To", "Subject", "List-Id"):
            value = str(msg[name])
            assert not CONTROL.search(value) and BIDI not in value, f"{path.name} {name}: {value!r}"
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                body = part.get_content()
                assert not CONTROL.search(body.replace("\r", "").replace("\n", "").replace("\t", "")), path.name
    assert str(email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)["From"]) \
        == f"News letter <{SENDER}>"
    return len(mails)


def test_dirty_titles_from_tautulli_and_plex_are_cleaned_at_ingest_and_build_and_send_succeed(tmp_path):
    """Item 3: a sandbox Tautulli and Plex serving control characters -> ingest, build, send dry run."""
    world = dirty_world()
    data, out = tmp_path / "data", tmp_path / "out"
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as plex, \
            PlexTvSandbox(world, pms_url=plex.url) as plextv:
        env = env_for(data, out, TAUTULLI_URL=tautulli.url, TAUTULLI_API_KEY=world.tautulli_api_key,
                      PLEX_URL=plex.url, PLEX_TOKEN=world.owner_token, MARQUEE__PLEX__PLEXTV_URL=plextv.url,
                      MARQUEE__SERVER__TIMEZONE=world.timezone)
        built = invoke(env, "build")
        assert "new issues:" in built.stdout and "Plex inventory skipped" not in built.stdout, built.stdout
        invoke(env, "send")
    assert assert_clean_output(out) >= 5

    con = duckdb.connect(str(data / "marquee.duckdb"), read_only=True)
    try:
        text = con.execute("""
            SELECT string_agg(coalesce(title, '') || coalesce(grandparent_title, '') || coalesce(full_title, '')
                              || coalesce(friendly_name, ''), '')
            FROM tautulli_history UNION ALL
            SELECT string_agg(coalesce(friendly_name, ''), '') FROM tautulli_users UNION ALL
            SELECT string_agg(coalesce(title, '') || coalesce(grandparent_title, ''), '') FROM plex_items UNION ALL
            SELECT string_agg(title, '') FROM plex_sections""").fetchall()
        snapshots = con.execute("SELECT string_agg(snapshot::VARCHAR, '') FROM issues").fetchall()[0][0]
    finally:
        con.close()
    history, users, items, sections = (row[0] for row in text)
    for what, value in (("history", history), ("users", users), ("items", items), ("sections", sections)):
        assert value and not CONTROL.search(value), what
    assert "[1m" in history and "[1m" in items and "Movies" in sections  # cleaned, not dropped
    assert BIDI in users  # kept in the store and the page; only headers drop it
    assert "\\u000b" not in snapshots and "\\u001b" not in snapshots


def test_a_store_and_a_snapshot_that_already_hold_control_characters_still_build_and_send(tmp_path):
    """Item 3: text stored by an older Marquee (store rows and a frozen snapshot) renders and mails."""
    world = generate(seed=12, users=10, plays=1500, days=40, now=int(time.time()) // 3600 * 3600)
    data, out = tmp_path / "data", tmp_path / "out"
    with TautulliSandbox(world) as tautulli:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
            "MARQUEE_DATA_DIR": str(data)}, dotenv_path=None, overrides={"server.timezone": world.timezone})
        commands.ingest(settings)
    # What an ingest before the fix left: the raw text, straight into the store.
    with open_store(settings) as store:
        store.con.execute("UPDATE tautulli_history SET title = title || chr(11) || chr(27) || '[1m' || chr(12), "
                          "grandparent_title = grandparent_title || chr(11), full_title = full_title || chr(11)")
        store.con.execute("UPDATE tautulli_users SET friendly_name = chr(8238) || friendly_name || chr(27)")

    env = env_for(data, out, MARQUEE__SERVER__TIMEZONE=world.timezone)
    invoke(env, "build", "--no-ingest")  # freezes from the dirty store: the snapshot holds the dirt
    with open_store(settings) as store:
        issues = list_snapshots(store)
        assert issues
        key = issues[0]["issue_key"]
        snap = load_snapshot(store, key)
        assert "\\u000b" in json.dumps(snap)
        # ...and a snapshot frozen with dirt in its own fields, as one written directly into the store
        snap["server"]["name"] = f"Casa\x00{BIDI}\x1bCinema"
        snap["period"]["label"] = f"{snap['period']['label']}\x0c"
        save_snapshot(store, key, parse_period(snap["period"]["key"], world.timezone), snap, replace=True)
    invoke(env, "build", "--no-ingest")
    invoke(env, "send")
    assert assert_clean_output(out) >= 5
    page = (out / "site" / "issues" / snap["period"]["key"].lower() / "index.html").read_text(encoding="utf-8")
    top = snap["top"]["movies"]["by_plays"][0]["title"]
    assert top.endswith("\x0b") and str(escape(top[:-1])) in page  # the title is there, less its control character
