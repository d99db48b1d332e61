"""Sending through a real moto server (and a fault proxy in front of it) with boto3's sesv2 client."""

from __future__ import annotations

import json
import logging
from collections import Counter
from email import message_from_string

import boto3
import pytest
import requests

from pipeline.errors import ConfigError
from pipeline.send.ledger import counts
from pipeline.send.optout import optin, optout
from pipeline.send.pacing import RetryPolicy
from pipeline.send.run import send_messages
from pipeline.send.ses import SesBackend
from pipeline.settings import load_settings
from pipeline.store.db import memory_store
from tests.fixtures.outgoing import KEY, SENDER, messages, recipients
from tests.fixtures.ses_proxy import SEND_PATH, SesProxy

FAST = RetryPolicy(attempts=6, base_seconds=0.01, cap_seconds=0.05)


def ses_settings(endpoint, tmp_path, **overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "email.backend": "ses", "email.from_address": SENDER, "email.outbox_dir": str(tmp_path / "outbox"),
        "ses.endpoint_url": endpoint, "ses.max_send_rate": 500, "ses.concurrency": 4, **overrides})


def verify_sender(url, identity=SENDER):
    boto3.client("sesv2", endpoint_url=url, region_name="us-east-1").create_email_identity(EmailIdentity=identity)


def delivered(url) -> list[dict]:
    """Every raw message moto accepted, from its state dump."""
    return requests.get(f"{url}/moto-api/data.json", timeout=30).json()["ses"]["RawMessage"]


def per_address(url) -> Counter:
    # moto lists the Destination address and the To header both, so count each message once per address.
    return Counter(a for m in delivered(url) for a in set(m["destinations"]))


@pytest.fixture
def store():
    s = memory_store()
    yield s
    s.close()


@pytest.fixture
def proxy(moto):
    with SesProxy(moto) as server:
        yield server


def test_messages_land_once_with_their_bytes_and_ids(moto, store, tmp_path):
    verify_sender(moto)
    settings = ses_settings(moto, tmp_path)
    summary = send_messages(store, settings, messages(25), apply=True)
    assert (summary.sent, summary.failed, summary.unknown, summary.backend) == (25, 0, 0, "ses")

    got = delivered(moto)
    assert len(got) == 25
    assert per_address(moto) == Counter({r.email: 1 for r in recipients(25)})
    first = next(m for m in got if recipients(1)[0].email in m["destinations"])
    assert first["source"] == SENDER
    parsed = message_from_string(first["raw_data"])
    assert parsed["X-Marquee-Key"] == KEY and parsed["To"] == recipients(1)[0].email
    ids = {row[0]: row[1] for row in store.con.execute(
        "SELECT email, provider_message_id FROM deliveries WHERE state = 'sent'").fetchall()}
    assert ids[recipients(1)[0].email] == first["id"]

    again = send_messages(store, settings, messages(25), apply=True)
    assert (again.sent, again.skipped_already_sent) == (0, 25)
    assert len(delivered(moto)) == 25


def test_the_account_rate_is_read_when_none_is_configured(moto, tmp_path):
    verify_sender(moto)
    backend = SesBackend(ses_settings(moto, tmp_path, **{"ses.max_send_rate": 0}))
    backend.open()
    assert backend.rate == 1.0  # moto's MaxSendRate
    backend.close()
    configured = SesBackend(ses_settings(moto, tmp_path, **{"ses.max_send_rate": 14}))
    configured.open()
    assert configured.rate == 14


def test_options_reach_ses(proxy, moto, store, tmp_path):
    verify_sender(moto)
    settings = ses_settings(proxy.url, tmp_path, **{"ses.configuration_set": "newsletter",
                                                    "ses.contact_list": "plex-viewers", "ses.topic": "weekly"})
    assert send_messages(store, settings, messages(2), apply=True).sent == 2
    bodies = [json.loads(r.body) for r in proxy.requests_to(SEND_PATH, "POST")]
    assert len(bodies) == 2
    assert {b["ConfigurationSetName"] for b in bodies} == {"newsletter"}
    assert {json.dumps(b["ListManagementOptions"], sort_keys=True) for b in bodies} == {
        '{"ContactListName": "plex-viewers", "TopicName": "weekly"}'}
    assert len(delivered(moto)) == 2


@pytest.mark.parametrize("code", ["TooManyRequestsException", "Throttling", "LimitExceededException"])
def test_throttling_is_retried_and_everything_lands_once(proxy, moto, store, tmp_path, code):
    verify_sender(moto)
    proxy.throttle, proxy.throttle_code = 7, code
    summary = send_messages(store, ses_settings(proxy.url, tmp_path), messages(12), apply=True, retry=FAST)
    assert (summary.sent, summary.retry_later, summary.failed) == (12, 0, 0)
    assert proxy.sends_seen == 12 + 7
    assert per_address(moto) == Counter({r.email: 1 for r in recipients(12)})
    assert counts(store, KEY) == {"sent": 12}


def test_server_errors_are_retried(proxy, moto, store, tmp_path):
    verify_sender(moto)
    proxy.fail("status", status=503, path=SEND_PATH, times=4)
    summary = send_messages(store, ses_settings(proxy.url, tmp_path), messages(6), apply=True, retry=FAST)
    assert summary.sent == 6 and len(proxy.requests_to(SEND_PATH, "POST")) == 10
    assert per_address(moto) == Counter({r.email: 1 for r in recipients(6)})


def test_throttling_that_never_ends_leaves_messages_pending(proxy, moto, store, tmp_path):
    verify_sender(moto)
    proxy.throttle = 10_000
    settings = ses_settings(proxy.url, tmp_path, **{"ses.concurrency": 1})
    summary = send_messages(store, settings, messages(2), apply=True,
                            retry=RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.02))
    assert (summary.sent, summary.retry_later) == (0, 2)
    assert counts(store, KEY) == {"pending": 2} and delivered(moto) == []
    proxy.throttle = 0
    assert send_messages(store, settings, messages(2), apply=True).sent == 2
    assert len(delivered(moto)) == 2


def test_a_rejected_recipient_fails_alone(proxy, moto, store, tmp_path):
    verify_sender(moto)
    bad = recipients(5)[2].email
    proxy.reject[bad] = ("Email address is not verified. The following identities failed the check in region "
                         f"US-EAST-1: {bad}")
    settings = ses_settings(proxy.url, tmp_path)
    summary = send_messages(store, settings, messages(5), apply=True, retry=FAST)
    assert (summary.sent, summary.failed) == (4, 1)
    assert any(bad in line and "MessageRejected" in line for line in summary.lines)
    assert counts(store, KEY) == {"failed": 1, "sent": 4}
    assert bad not in per_address(moto) and len(delivered(moto)) == 4
    later = send_messages(store, settings, messages(5), apply=True)
    assert (later.sent, later.skipped_failed) == (0, 1)


def test_a_rejected_sender_stops_the_run(proxy, moto, store, tmp_path):
    verify_sender(moto)
    third = recipients(3)[2].email
    proxy.reject[third] = ("Email address is not verified. The following identities failed the check in region "
                           f"US-EAST-1: {SENDER}")
    settings = ses_settings(proxy.url, tmp_path, **{"ses.concurrency": 1})
    with pytest.raises(ConfigError, match=f"SES will not send from {SENDER}"):
        send_messages(store, settings, messages(8), apply=True, retry=FAST)
    assert counts(store, KEY) == {"pending": 1, "sent": 2}
    assert len(delivered(moto)) == 2


def test_an_unverified_sender_is_refused_before_anything_is_claimed(moto, store, tmp_path):
    with pytest.raises(ConfigError, match=f"neither {SENDER} nor marquee.test is a verified identity"):
        send_messages(store, ses_settings(moto, tmp_path), messages(3), apply=True)
    assert counts(store, KEY) == {} and delivered(moto) == []


def test_a_verified_domain_is_enough(moto, store, tmp_path):
    verify_sender(moto, "marquee.test")
    assert send_messages(store, ses_settings(moto, tmp_path), messages(2), apply=True).sent == 2


@pytest.mark.parametrize("rate", [0, 500])
def test_bad_credentials_stop_the_run_in_one_line(moto, store, tmp_path, rate):
    verify_sender(moto)
    requests.post(f"{moto}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()  # IAM checks on
    with pytest.raises(ConfigError) as caught:
        send_messages(store, ses_settings(moto, tmp_path, **{"ses.max_send_rate": rate}), messages(3), apply=True)
    text = str(caught.value)
    assert "refused the credentials" in text and "InvalidClientTokenId" in text and "\n" not in text
    assert counts(store, KEY) == {}


def test_the_suppression_list_is_honoured(proxy, moto, store, tmp_path):
    verify_sender(moto)
    people = recipients(6)
    proxy.suppressed = {people[1].email: "BOUNCE", people[4].email: "COMPLAINT", "else@where.test": "BOUNCE"}
    summary = send_messages(store, ses_settings(proxy.url, tmp_path), messages(6), apply=True)
    assert (summary.sent, summary.suppressed) == (4, 2)
    assert set(per_address(moto)) == {p.email for i, p in enumerate(people) if i not in (1, 4)}
    assert counts(store, KEY) == {"sent": 4, "suppressed": 2}
    assert any(people[4].email in line and "COMPLAINT" in line for line in summary.lines)
    assert len(proxy.requests_to("/v2/email/suppression/addresses", "GET")) == 2  # followed NextToken


def test_no_suppression_list_in_moto_is_one_log_line(moto, store, tmp_path, caplog):
    verify_sender(moto)
    with caplog.at_level(logging.INFO):
        summary = send_messages(store, ses_settings(moto, tmp_path), messages(3), apply=True)
    assert summary.sent == 3
    lines = [r.getMessage() for r in caplog.records if "suppression list" in r.getMessage()]
    assert len(lines) == 1 and "not available" in lines[0] and "404" in lines[0]


def test_opt_outs_are_honoured(moto, store, tmp_path):
    verify_sender(moto)
    who = recipients(3)[1].email
    optout(store, who)
    settings = ses_settings(moto, tmp_path)
    summary = send_messages(store, settings, messages(3), apply=True)
    assert (summary.sent, summary.opted_out) == (2, 1) and who not in per_address(moto)
    optin(store, who)
    assert send_messages(store, settings, messages(3), apply=True).sent == 1
    assert per_address(moto)[who] == 1


def test_dry_run_writes_eml_and_touches_neither_ledger_nor_ses(proxy, moto, store, tmp_path):
    settings = ses_settings(proxy.url, tmp_path)  # the sender is not even verified
    summary = send_messages(store, settings, messages(4), apply=False)
    assert summary.dry_run_files == 4 and not summary.applied
    files = sorted((tmp_path / "outbox" / "dry-run" / KEY).glob("*.eml"))
    assert [f.name for f in files] == [f"{r.email}.eml" for r in recipients(4)]
    assert proxy.requests == [] and delivered(moto) == []
    assert store.con.execute("SELECT count(*) FROM deliveries").fetchall() == [(0,)]


def test_a_dropped_connection_is_unknown_until_resent_on_purpose(proxy, moto, store, tmp_path):
    verify_sender(moto)
    settings = ses_settings(proxy.url, tmp_path, **{"ses.concurrency": 1})
    proxy.fail("down", path=SEND_PATH, skip=1, times=1)  # the second send never gets an answer
    first = send_messages(store, settings, messages(3), apply=True, retry=FAST)
    assert (first.sent, first.unknown) == (2, 1)
    assert counts(store, KEY) == {"sent": 2, "unknown": 1}
    second = send_messages(store, settings, messages(3), apply=True)
    assert (second.sent, second.unknown) == (0, 1)
    third = send_messages(store, settings, messages(3), apply=True, resend_unknown=True)
    assert third.sent == 1 and counts(store, KEY) == {"sent": 3}
    # The proxy never forwarded the dropped one, so resending it did not duplicate anything.
    assert per_address(moto) == Counter({r.email: 1 for r in recipients(3)})


@pytest.mark.parametrize("rate", [0, 500])
def test_nobody_listening_is_unreachable(aws_env, store, tmp_path, rate):
    from pipeline.errors import Unreachable
    from tests.fixtures.smtp_server import free_port

    settings = ses_settings(f"http://127.0.0.1:{free_port()}", tmp_path, **{"ses.max_send_rate": rate})
    with pytest.raises(Unreachable, match="cannot reach http://127.0.0.1"):
        send_messages(store, settings, messages(2), apply=True)
    assert counts(store, KEY) == {}
