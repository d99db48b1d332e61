"""Issue 11, item 7: SES throttling that never ends stops `invoke send --apply` with one line once it has lasted
email.max_throttled_seconds, leaving the rest pending; the next run resumes and sends each reader once."""

from __future__ import annotations

from collections import Counter
from email.utils import parseaddr

import boto3
import pytest
import requests

from pipeline.run import commands
from pipeline.store import open_store
from tests.fixtures.sandbox_issue import SENDER, sandbox_issue
from tests.fixtures.ses_proxy import SesProxy


def per_address(moto) -> Counter:
    raw = requests.get(f"{moto}/moto-api/data.json", timeout=30).json()["ses"]["RawMessage"]
    return Counter(a for m in raw for a in {parseaddr(d)[1].lower() for d in m["destinations"]})


def states(settings) -> Counter:
    with open_store(settings) as store:
        return Counter(dict(store.con.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()))


@pytest.fixture
def throttled(moto, tmp_path):
    boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").create_email_identity(EmailIdentity=SENDER)
    with SesProxy(moto) as proxy, sandbox_issue(tmp_path) as (settings, clock, readers):
        proxy.throttle = 10**9  # every send is answered 429 TooManyRequestsException, for ever
        s = settings(**{"email.backend": "ses", "ses.endpoint_url": proxy.url, "ses.max_send_rate": 50,
                        "ses.concurrency": 4, "email.max_throttled_seconds": 0.001})
        yield proxy, s, clock, readers


def test_endless_throttling_stops_the_run_in_one_line_and_a_rerun_resumes(throttled, moto, capsys):
    """Item 7: the breaker ends the run instead of retrying every reader for as long as SES says no."""
    proxy, settings, clock, readers = throttled

    code = commands.guarded(commands.send, settings, clock, apply=True)

    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "answered nothing but throttling" in err and "email.max_throttled_seconds" in err
    assert "next `invoke send --apply` resumes" in err
    assert per_address(moto) == Counter()
    assert set(states(settings)) <= {"pending"}  # nothing sent, nothing left 'sending' or unknown
    assert 0 < proxy.sends_seen < len(readers)  # it stopped long before trying every reader

    proxy.throttle = 0
    assert commands.guarded(commands.send, settings, clock, apply=True) == 0
    got = per_address(moto)
    assert readers <= set(got) and set(got.values()) == {1}
    assert states(settings) == Counter({"sent": len(got)})
