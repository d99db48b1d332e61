"""Real rendered digests (pipeline.render.email.notice) through moto's SES and an aiosmtpd relay, byte for byte."""

from __future__ import annotations

import boto3
import pytest
import requests

from pipeline.render.email.notice import render_digest
from pipeline.send.run import send_messages
from pipeline.store.db import memory_store
from tests.fixtures.email_issue import EMAILS, recipient, settings, snapshot
from tests.fixtures.smtp_server import Inbox, start_smtp


@pytest.fixture(scope="module")
def digests():
    return render_digest(snapshot(), settings(), [recipient(u) for u in EMAILS] + [recipient(None)])


def test_rendered_digests_through_ses(moto, digests, tmp_path):
    conf = settings(**{"email.backend": "ses", "ses.endpoint_url": moto, "ses.max_send_rate": 100,
                       "email.outbox_dir": str(tmp_path)})
    boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").create_email_identity(
        EmailIdentity=conf.email.from_address)
    store = memory_store()
    summary = send_messages(store, conf, digests, apply=True)
    assert (summary.sent, summary.failed) == (len(digests), 0)
    raw = requests.get(f"{moto}/moto-api/data.json", timeout=30).json()["ses"]["RawMessage"]
    by_address = {m["destinations"][0]: m["raw_data"].encode() for m in raw}
    assert by_address == {d.recipient.email: d.mime for d in digests}


def test_rendered_digests_through_smtp(digests, tmp_path):
    inbox = Inbox()
    controller = start_smtp(inbox)
    try:
        conf = settings(**{"email.backend": "smtp", "smtp.host": "127.0.0.1", "smtp.port": controller.port,
                           "smtp.security": "none", "email.outbox_dir": str(tmp_path)})
        summary = send_messages(memory_store(), conf, digests, apply=True)
        assert summary.sent == len(digests)
        got = {r.rcpt_tos[0]: r.content for r in inbox.received}
        assert got == {d.recipient.email: d.mime for d in digests}
    finally:
        controller.stop()
