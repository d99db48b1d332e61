"""`invoke send` end to end: sandbox -> ingest -> frozen issue -> digests -> SES (moto) exactly once."""

from collections import Counter
from datetime import datetime, timezone
from email.utils import parseaddr

import boto3
import pytest
import requests

from pipeline.clock import FixedClock
from pipeline.ingest.run import run_ingest
from pipeline.stats.freeze import freeze_issues
from pipeline.run.send_issue import send_issue
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.send.optout import optout
from pipeline.settings import load_settings
from pipeline.store import open_store

SENDER = "newsletter@example.org"


def per_address(url) -> Counter:
    raw = requests.get(f"{url}/moto-api/data.json", timeout=30).json()["ses"]["RawMessage"]
    # moto lists each address as the Destination and again as the To header ("Name <addr>"): once per message
    return Counter(a for m in raw for a in {parseaddr(d)[1].lower() for d in m["destinations"]})


@pytest.fixture
def sent(moto, tmp_path):
    """A store with one frozen issue, settings that send through moto, and the clock."""
    world = generate(seed=5, users=24, plays=3000)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").create_email_identity(EmailIdentity=SENDER)
    with TautulliSandbox(world) as tautulli:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
            "MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "newsletter.backfill": 0, "email.backend": "ses",
            "email.from_address": SENDER, "email.outbox_dir": str(tmp_path / "outbox"),
            "ses.endpoint_url": moto, "ses.max_send_rate": 200})
        store = open_store(settings)
        run_ingest(store, settings, clock)
    key = freeze_issues(store, settings, clock.now()).frozen[0]
    yield store, settings, clock, key, world
    store.close()


def readers(world):
    return {u.email.lower() for u in world.users if u.email and u.in_tautulli and not u.is_owner}


def test_a_dry_run_writes_one_eml_per_reader_and_sends_nothing(sent, moto, tmp_path):
    store, settings, clock, key, world = sent
    summary = send_issue(store, settings, clock)
    files = sorted(p.name for p in (tmp_path / "outbox" / "dry-run").rglob("*.eml"))
    assert summary.dry_run_files == len(files) >= len(readers(world))
    assert per_address(moto) == Counter()
    assert any("without an e-mail address" in line for line in summary.lines)  # managed home users, named


def test_apply_sends_each_reader_exactly_once_and_a_rerun_sends_nobody(sent, moto):
    store, settings, clock, key, world = sent
    first = send_issue(store, settings, clock, apply=True)
    counts = per_address(moto)
    assert first.sent == len(counts) and set(counts.values()) == {1}
    assert readers(world) <= set(counts)
    again = send_issue(store, settings, clock, apply=True)
    assert again.sent == 0 and per_address(moto) == counts


def test_a_preview_is_not_a_readers_delivery(sent, moto):
    store, settings, clock, key, world = sent
    reader = sorted(readers(world))[0]
    preview = send_issue(store, settings, clock, apply=True, to=reader.upper())
    assert preview.sent == 1 and per_address(moto) == Counter({reader: 1})
    send_issue(store, settings, clock, apply=True)
    assert per_address(moto)[reader] == 2  # the preview, then the real digest


def test_an_unsubscribed_reader_gets_no_digest(sent, moto):
    store, settings, clock, key, world = sent
    gone = sorted(readers(world))[1]
    optout(store, gone)
    summary = send_issue(store, settings, clock, apply=True)
    assert gone not in per_address(moto) and summary.sent == len(per_address(moto))
