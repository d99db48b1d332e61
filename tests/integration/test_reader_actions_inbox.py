"""The inbox between the web app and the store: an acknowledged action survives a SIGKILL of the web process, and
the next run takes it in once, applying only what is the reader's own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from pipeline.ingest.inbox import take_inbox
from pipeline.tokens import Signer, secret_key
from pipeline.web import inbox
from tests.fixtures.sql_world import ALICE_EMAIL, seeded
from tests.fixtures.stats_world import ALICE, DAVE, INGESTED
from tests.fixtures.web_app import SECRET, web_settings

ROOT = Path(__file__).resolve().parents[2]
SERVE = "from pipeline.run.web import serve_web; from pipeline.settings import load_settings; " \
        "serve_web(load_settings(dotenv_path=None))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_web_process_killed_right_after_answering_loses_no_action(tmp_path):
    settings = web_settings(tmp_path)
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "MARQUEE_SECRET_KEY": SECRET,
           "MARQUEE__DATA__DIR": str(settings.data.dir), "MARQUEE__WEB__PORT": str(port),
           "MARQUEE__WEB__PUBLIC_URL": settings.web.public_url, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", SERVE], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert child.poll() is None and time.monotonic() < deadline, child.stderr.read() if child.poll() else ""
            time.sleep(0.05)
        token = Signer(secret_key(settings)).token(ALICE, "unsubscribe", ALICE_EMAIL,
                                                   datetime(2099, 1, 1, tzinfo=timezone.utc))
        answer = requests.post(f"{base}/a/{ALICE}/{token}", data="List-Unsubscribe=One-Click", timeout=10)
        os.kill(child.pid, signal.SIGKILL)  # right after the answer: nothing flushed later can save it
        assert (answer.status_code, answer.text) == (200, "unsubscribed")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    store = seeded()  # the next run
    assert take_inbox(store, settings, INGESTED) == 1
    optouts = store.con.execute("SELECT email, source FROM email_optouts WHERE email = ?", [ALICE_EMAIL]).fetchall()
    assert optouts == [(ALICE_EMAIL, "link")]


def record(settings, *requests_: inbox.Request) -> None:
    con = inbox.connect(Path(settings.data.dir) / inbox.INBOX_FILE)
    for r in requests_:
        con.execute("BEGIN IMMEDIATE")
        inbox.record(con, r)
        con.execute("COMMIT")
    con.close()


def test_the_next_run_applies_the_readers_own_actions_once_and_refuses_the_rest(tmp_path):
    settings = web_settings(tmp_path)
    at = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)
    record(settings,
           inbox.Request(DAVE, "keep", "120", at, keeps_per_month=3),       # Dave was told Up leaves: his to keep
           inbox.Request(ALICE, "keep", "120", at, keeps_per_month=3),      # Up is not Alice's: refused
           inbox.Request(ALICE, "unsubscribe", "someone@else.org", at),     # not her address: refused
           inbox.Request(DAVE, "done", "120", at))
    store = seeded()
    assert take_inbox(store, settings, INGESTED) == 4
    assert take_inbox(store, settings, INGESTED) == 0  # taken in once
    outcomes = store.con.execute("SELECT user_id, action, outcome FROM reader_actions WHERE inbox_uid <> 'seed' "
                                 "ORDER BY action_id").fetchall()
    assert outcomes == [(DAVE, "keep", "applied"), (ALICE, "keep", "refused: not this reader's"),
                        (ALICE, "unsubscribe", "refused: not this reader's"), (DAVE, "done", "applied")]
    keeps = store.con.execute("SELECT rating_key, note FROM media_keeps WHERE rating_key = 120").fetchall()
    assert keeps and keeps[0][1].startswith("kept by ") and keeps[0][1].endswith(" from the e-mail")
    assert store.con.execute("SELECT count(*) FROM email_optouts WHERE email = 'someone@else.org'").fetchone() == (0,)


def test_the_inbox_limits_keeps_per_reader_per_month(tmp_path):
    settings = web_settings(tmp_path)
    con = inbox.connect(Path(settings.data.dir) / inbox.INBOX_FILE)
    at = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)
    outcomes = []
    for key in ("1", "2", "3", "1"):
        con.execute("BEGIN IMMEDIATE")
        outcomes.append(inbox.record(con, inbox.Request(DAVE, "keep", key, at, keeps_per_month=2)))
        con.execute("COMMIT")
    december = inbox.record(con, inbox.Request(DAVE, "keep", "3", at.replace(month=12), keeps_per_month=2))
    assert outcomes == [inbox.DONE, inbox.DONE, inbox.LIMIT, inbox.ALREADY] and december == inbox.DONE


def test_a_new_inbox_file_is_taken_in_though_its_ids_start_again(tmp_path):
    settings = web_settings(tmp_path)
    at = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)
    store = seeded()
    record(settings, inbox.Request(DAVE, "keep", "120", at, keeps_per_month=3))
    assert take_inbox(store, settings, INGESTED) == 1
    (Path(settings.data.dir) / inbox.INBOX_FILE).unlink()  # the admin removed it; the next one starts at id 1
    for name in ("-wal", "-shm"):
        Path(str(Path(settings.data.dir) / inbox.INBOX_FILE) + name).unlink(missing_ok=True)
    record(settings, inbox.Request(DAVE, "done", "120", at))
    assert take_inbox(store, settings, INGESTED) == 1
    assert store.con.execute("SELECT count(*) FROM reader_actions WHERE user_id = ?", [DAVE]).fetchone() == (2,)


def test_every_field_is_taken_in_exactly_as_the_inbox_has_it(tmp_path):
    """The take-in reads each column as one JSON array: quotes, backslashes, newlines and any script survive."""
    settings = web_settings(tmp_path)
    at = datetime(2026, 11, 16, 9, 30, 15, 123456, tzinfo=timezone.utc)
    odd = ['o\'neil+"x"@例え.jp', "back\\slash\nnew\tline", "<script>alert(1)</script>", "🎬 \u2028 end"]
    record(settings, *(inbox.Request(DAVE + i, "done", target, at) for i, target in enumerate(odd)))
    store = seeded()
    assert take_inbox(store, settings, INGESTED) == len(odd)
    rows = store.con.execute("SELECT action_id, user_id, action, target, acted_at FROM reader_actions "
                             "WHERE inbox_uid <> 'seed' ORDER BY action_id").fetchall()
    assert rows == [(i + 1, DAVE + i, "done", target, at) for i, target in enumerate(odd)]


def test_answers_that_wait_on_one_commit_are_delivered_together(tmp_path):
    """Group commit: while another connection holds the inbox's write lock, requests queue up; once it lets go they
    are committed and handed back in at most two batches (the one already waiting, then the rest), every one DONE."""
    import threading

    path = tmp_path / inbox.INBOX_FILE
    batches: list[list] = []
    delivered = threading.Event()

    def deliver(settled: list) -> None:
        batches.append(settled)
        if sum(len(b) for b in batches) == 10:
            delivered.set()

    writer = inbox.Writer(path, deliver=deliver)
    blocker = inbox.connect(path)
    blocker.execute("BEGIN IMMEDIATE")  # the writer's BEGIN IMMEDIATE now waits (sqlite3's 5 s busy timeout)
    at = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)
    for i in range(10):
        writer.submit(inbox.Request(DAVE, "done", str(i), at), f"waiter {i}")
    blocker.execute("COMMIT")
    assert delivered.wait(10)
    writer.close()
    blocker.close()
    assert len(batches) <= 2
    assert [pair for b in batches for pair in b] == [(f"waiter {i}", inbox.DONE) for i in range(10)]
    assert inbox.connect(path).execute("SELECT count(*) FROM actions").fetchone() == (10,)
