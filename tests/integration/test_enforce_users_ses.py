"""Enforcement e-mails through SES (a real moto server on loopback): warnings and welcomes reach their
readers once, and a failing provider postpones the removal instead of letting it happen without notice."""

from __future__ import annotations

from collections import Counter
from email.utils import parseaddr

import boto3
import pytest
import requests

from pipeline.run.enforce import run_enforce
from tests.fixtures.enforce_sandbox import ADMIN, SENDER, EnforceSandbox

WARNED = ("idle 27d", "idle 29d", "idle 30d", "idle 45d", "never watched")


def per_address(url) -> Counter:
    raw = requests.get(f"{url}/moto-api/data.json", timeout=30).json()["ses"]["RawMessage"]
    # moto lists both the envelope address and the To header ("Name <address>"): count each message once.
    return Counter(a for m in raw for a in {parseaddr(d)[1] for d in m["destinations"]})


@pytest.fixture
def sb(tmp_path, moto, ingested_data):
    with EnforceSandbox(tmp_path, **{"email.backend": "ses", "ses.endpoint_url": moto,
                                     "ses.max_send_rate": 100}) as sandbox:
        sandbox.restore(ingested_data)  # e-mail settings do not change what an ingest stores
        yield sandbox


def apply(sb):
    with sb.store() as store:
        return run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")


def test_warnings_and_welcomes_go_out_through_ses_once(sb, moto):
    boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").create_email_identity(EmailIdentity=SENDER)
    result = apply(sb)
    assert result.failures == 0
    expected = {sb.user(n).email for n in WARNED + ("welcome", "grace")} | {ADMIN}
    assert per_address(moto) == Counter({address: 1 for address in expected})
    sb.clock.advance(hours=1)
    assert apply(sb).failures == 0
    assert per_address(moto) == Counter({address: 1 for address in expected})
    warned = sb.query("SELECT count(*) FROM member_states WHERE warned_at IS NOT NULL")
    assert warned == [(len(WARNED),)]


def test_an_unverified_sender_fails_the_warnings_and_postpones_removal(sb, moto):
    result = apply(sb)  # SES rejects every message: the sender is not verified
    assert result.failures == len(WARNED) + 2  # the two welcomes are left for the next run too
    assert sb.query("SELECT count(*) FROM member_states WHERE warned_at IS NOT NULL OR welcomed_at IS NOT NULL") \
        == [(0,)]
    errors = sb.query("SELECT last_error FROM member_states WHERE last_error IS NOT NULL")
    assert len(errors) == len(WARNED) and all(e[0].startswith("warning e-mail not sent") for e in errors)
    sb.clock.advance(days=4)
    sb.ingest()
    again = apply(sb)
    assert sb.tv.requests_to("/api/", "DELETE") == []  # nobody is removed without a warning on record
    assert not any(line.startswith("removed") for line in again.lines)
