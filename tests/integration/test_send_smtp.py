"""Sending over SMTP to a real aiosmtpd server on loopback: plain relay, STARTTLS + AUTH, implicit TLS."""

from __future__ import annotations

import json
import logging
import os
import signal
import ssl
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, Unreachable
from pipeline.send.ledger import counts
from pipeline.send.pacing import RetryPolicy
from pipeline.send.run import send_messages
from pipeline.send.smtp import SmtpBackend
from pipeline.settings import load_settings
from pipeline.store.db import memory_store
from tests.fixtures.outgoing import KEY, SENDER, message, messages, recipients
from tests.fixtures.smtp_server import PASSWORD, USERNAME, Inbox, free_port, self_signed_cert, start_smtp

ROOT = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(attempts=5, base_seconds=0.01, cap_seconds=0.05)


def smtp_settings(port, tmp_path, **overrides):
    environ = {"SMTP_PASSWORD": overrides.pop("password")} if "password" in overrides else {}
    return load_settings(environ=environ, dotenv_path=None, overrides={
        "email.backend": "smtp", "email.from_address": SENDER, "email.outbox_dir": str(tmp_path / "outbox"),
        "smtp.host": "127.0.0.1", "smtp.port": port, "smtp.security": "none", **overrides})


@pytest.fixture
def store():
    s = memory_store()
    yield s
    s.close()


@pytest.fixture
def relay():
    inbox = Inbox()
    controller = start_smtp(inbox)
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def trusting(cert_pair) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert_pair[0]))


def test_a_local_relay_gets_one_copy_each(relay, store, tmp_path):
    inbox, port = relay
    settings = smtp_settings(port, tmp_path)
    summary = send_messages(store, settings, messages(15), apply=True)
    assert (summary.sent, summary.failed, summary.backend) == (15, 0, "smtp")
    assert Counter(inbox.addresses()) == Counter({r.email: 1 for r in recipients(15)})
    first = inbox.received[0]
    assert first.mail_from == SENDER and first.key == KEY
    assert first.content.replace(b"\r\n", b"\n").rstrip() == message(recipients(1)[0]).mime.rstrip()
    ids = {r[0] for r in store.con.execute("SELECT provider_message_id FROM deliveries").fetchall()}
    assert ids == {"250 2.0.0 Ok: queued"}
    again = send_messages(store, settings, messages(15), apply=True)
    assert (again.sent, again.skipped_already_sent) == (0, 15) and len(inbox.received) == 15


def test_starttls_with_login(cert, store, tmp_path, caplog):
    inbox = Inbox()
    controller = start_smtp(inbox, cert=cert, auth=True)
    try:
        settings = smtp_settings(controller.port, tmp_path, password=PASSWORD, **{
            "smtp.security": "starttls", "smtp.username": USERNAME})
        with caplog.at_level(logging.DEBUG):
            summary = send_messages(store, settings, messages(4), apply=True,
                                    backend=SmtpBackend(settings, ssl_context=trusting(cert)))
        assert summary.sent == 4 and len(inbox.received) == 4
        assert inbox.logins == [USERNAME]  # one connection, reused
        assert PASSWORD not in caplog.text and PASSWORD not in "\n".join(summary.lines)
    finally:
        controller.stop()


def test_implicit_tls(cert, store, tmp_path):
    inbox = Inbox()
    controller = start_smtp(inbox, cert=cert, implicit_tls=True)
    try:
        settings = smtp_settings(controller.port, tmp_path, **{"smtp.security": "tls"})
        summary = send_messages(store, settings, messages(3), apply=True,
                                backend=SmtpBackend(settings, ssl_context=trusting(cert)))
        assert summary.sent == 3 and len(inbox.received) == 3
    finally:
        controller.stop()


def test_an_untrusted_certificate_stops_before_anything(cert, store, tmp_path):
    inbox = Inbox()
    controller = start_smtp(inbox, cert=cert)
    try:
        settings = smtp_settings(controller.port, tmp_path, **{"smtp.security": "starttls"})
        with pytest.raises(ConfigError, match="TLS with SMTP server 127.0.0.1") as caught:
            send_messages(store, settings, messages(2), apply=True)  # the system trust store: not our cert
        assert "\n" not in str(caught.value)
        assert counts(store, KEY) == {} and inbox.received == []
    finally:
        controller.stop()


def test_a_wrong_password_is_one_line_without_the_password(cert, store, tmp_path):
    inbox = Inbox()
    controller = start_smtp(inbox, cert=cert, auth=True)
    try:
        settings = smtp_settings(controller.port, tmp_path, password="not-the-password", **{
            "smtp.security": "starttls", "smtp.username": USERNAME})
        with pytest.raises(ConfigError, match="refused the login of 'marquee'") as caught:
            send_messages(store, settings, messages(2), apply=True,
                          backend=SmtpBackend(settings, ssl_context=trusting(cert)))
        assert "not-the-password" not in str(caught.value) and "\n" not in str(caught.value)
        assert counts(store, KEY) == {}
    finally:
        controller.stop()


def test_a_password_is_never_sent_in_clear_to_another_host(store, tmp_path):
    settings = smtp_settings(25, tmp_path, password="secret-value", **{"smtp.host": "mail.example.org"})
    with pytest.raises(ConfigError, match="in clear text to mail.example.org"):
        send_messages(store, settings, messages(1), apply=True)


def test_nobody_listening_is_unreachable(store, tmp_path):
    with pytest.raises(Unreachable, match="cannot reach SMTP server 127.0.0.1"):
        send_messages(store, smtp_settings(free_port(), tmp_path), messages(1), apply=True)


def test_a_refused_recipient_fails_alone(relay, store, tmp_path):
    inbox, port = relay
    bad = recipients(4)[1].email
    inbox.reject[bad] = "550 5.1.1 no such user"
    summary = send_messages(store, smtp_settings(port, tmp_path), messages(4), apply=True, retry=FAST)
    assert (summary.sent, summary.failed) == (3, 1)
    assert any("RCPT TO: 550 5.1.1 no such user" in line for line in summary.lines)
    assert bad not in inbox.addresses() and counts(store, KEY) == {"failed": 1, "sent": 3}


def test_temporary_failures_are_retried(relay, store, tmp_path):
    inbox, port = relay
    inbox.temp_fail_data = 3
    summary = send_messages(store, smtp_settings(port, tmp_path), messages(5), apply=True, retry=FAST)
    assert summary.sent == 5
    assert Counter(inbox.addresses()) == Counter({r.email: 1 for r in recipients(5)})


def test_a_dropped_connection_is_reopened(relay, store, tmp_path):
    inbox, port = relay
    inbox.drop_at_mail = 2
    summary = send_messages(store, smtp_settings(port, tmp_path), messages(5), apply=True, retry=FAST)
    assert (summary.sent, summary.unknown, summary.retry_later) == (5, 0, 0)
    assert Counter(inbox.addresses()) == Counter({r.email: 1 for r in recipients(5)})


def run_child(env, *args):
    return subprocess.run([sys.executable, "-m", "tests.fixtures.send_child", "--n", "8", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kill_on, k, unknown_arrived", [("claimed", 3, False), ("called", 3, True),
                                                         ("recorded", 8, False)])
@pytest.mark.slow
def test_exactly_once_across_a_kill(cert, tmp_path, kill_on, k, unknown_arrived):
    inbox = Inbox()
    controller = start_smtp(inbox, cert=cert, auth=True)
    everyone = [r.email for r in recipients(8)]
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
               "MARQUEE_DATA_DIR": str(tmp_path / "data"), "MARQUEE__EMAIL__BACKEND": "smtp",
               "MARQUEE__EMAIL__FROM_ADDRESS": SENDER, "MARQUEE__SMTP__HOST": "127.0.0.1",
               "MARQUEE__SMTP__PORT": str(controller.port), "MARQUEE__SMTP__SECURITY": "starttls",
               "MARQUEE__SMTP__USERNAME": USERNAME, "SMTP_PASSWORD": PASSWORD}
        cafile = ["--cafile", str(cert[0])]
        crash = run_child(env, *cafile, "--kill-on", kill_on, "--kill-at", str(k))
        assert crash.returncode == -signal.SIGKILL, crash.stderr[-2000:]
        sent_before = k if kill_on != "claimed" else k - 1
        assert inbox.addresses() == everyone[:sent_before]

        rerun = run_child(env, *cafile)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        result = json.loads(rerun.stdout)
        unknown = result["unknown"]
        assert unknown == (0 if kill_on == "recorded" else 1)
        assert Counter(inbox.addresses()) == Counter(
            {e: 1 for e in everyone if unknown == 0 or e != everyone[k - 1] or unknown_arrived})

        run_child(env, *cafile, "--resend-unknown")
        final = Counter(inbox.addresses())
        assert set(final) == set(everyone)
        assert sum(final.values()) == 8 + (1 if unknown_arrived else 0)
    finally:
        controller.stop()
