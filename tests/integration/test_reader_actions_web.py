"""The reader-actions web app over real HTTP: a GET never acts, only a signed POST does, once; every attack in
issue #12 gets a clear 4xx page and leaves the inbox as it was."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.fixtures.web_app import WebApp

ALICE, BOB = 11, 12
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture()
def web(tmp_path):
    with WebApp(tmp_path) as app:
        yield app


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def press(link: str, **extra: str) -> requests.Response:
    """What a reader does: open the page, press its one button."""
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "<form method=\"post\">" in page.text
    return requests.post(link, data={"csrf": csrf(page.text), **extra}, timeout=10)


def test_a_get_shows_one_button_and_changes_nothing(web):
    link = web.link(ALICE, "keep", "120", label="Heat")
    for _ in range(3):  # a mail scanner, a link preview, the reader
        page = requests.get(link, timeout=10)
        assert page.status_code == 200
    assert page.text.count("<button") == 1 and "Keep “Heat”?" in page.text
    assert "Nothing happens until you press the button." in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert web.inbox_rows() == []


def test_pressing_the_button_acts_once_and_a_second_press_says_already_done(web):
    link = web.link(ALICE, "keep", "120", label="Heat")
    field = csrf(requests.get(link, timeout=10).text)
    first = requests.post(link, data={"csrf": field}, timeout=10)
    assert first.status_code == 200 and "Kept: “Heat”" in first.text and "before it deletes anything" in first.text
    page = requests.get(link, timeout=10)
    assert "is already kept" in page.text and "<button" not in page.text
    second = requests.post(link, data={"csrf": field}, timeout=10)
    assert second.status_code == 200 and "is already kept" in second.text
    # Another link's CSRF field does not fit this one.
    other = csrf(requests.get(web.link(ALICE, "keep", "121"), timeout=10).text)
    assert requests.post(link, data={"csrf": other}, timeout=10).status_code == 403
    assert web.inbox_rows() == [(ALICE, "keep", "120")]


def test_a_replayed_post_changes_nothing_twice(web):
    link = web.link(BOB, "done", "130", label="Up")
    page = requests.get(link, timeout=10).text
    token = csrf(page)
    answers = [requests.post(link, data={"csrf": token}, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "Noted" in answers[0].text and all("already said" in a.text for a in answers[1:])
    assert web.inbox_rows() == [(BOB, "done", "130")]


def test_rfc_8058_one_click_post_unsubscribes_and_a_get_of_the_same_url_does_not(web):
    link = web.link(ALICE, "unsubscribe", "alice@example.org", label="alice@example.org")
    assert requests.get(link, timeout=10).status_code == 200
    assert web.inbox_rows() == []
    answer = requests.post(link, data=ONE_CLICK, timeout=10,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (answer.status_code, answer.text) == (200, "unsubscribed")
    assert web.inbox_rows() == [(ALICE, "unsubscribe", "alice@example.org")]
    # The page now offers to resubscribe, from the same link.
    page = requests.get(link, timeout=10)
    assert "You&#x27;re unsubscribed" in page.text and "Resubscribe" in page.text
    back = requests.post(link, data={"csrf": csrf(page.text), "choice": "resubscribe"}, timeout=10)
    assert "subscribed again" in back.text
    assert web.inbox_rows()[-1] == (ALICE, "resubscribe", "alice@example.org")


def test_one_click_is_only_for_unsubscribing_and_anything_else_needs_the_pages_csrf_field(web):
    keep = web.link(ALICE, "keep", "120")
    assert requests.post(keep, data=ONE_CLICK, timeout=10).status_code == 400
    unsub = web.link(ALICE, "unsubscribe", "alice@example.org")
    near = requests.post(unsub, data=ONE_CLICK + "&x=1", timeout=10)  # not exactly the RFC 8058 body
    assert near.status_code == 403 and "Nothing was changed." in near.text
    assert requests.post(keep, data={"csrf": "forged"}, timeout=10).status_code == 403
    assert web.inbox_rows() == []


def test_a_tampered_signature_is_refused(web):
    link = web.link(ALICE, "keep", "120")
    head, sig = link.rsplit(".", 1)
    tampered = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    for method in (requests.get, requests.post):
        answer = method(tampered, timeout=10)
        assert answer.status_code == 400 and "This link is not valid" in answer.text
    # Another target under the same signature is a forgery too.
    other = web.token(ALICE, "keep", "999")
    forged = f"{web.url}/a/{ALICE}/{other.rsplit('.', 1)[0]}.{link.rsplit('.', 1)[1]}"
    assert requests.post(forged, data={"csrf": "x"}, timeout=10).status_code == 400
    assert web.inbox_rows() == []


def test_another_readers_token_is_refused(web):
    alices = web.token(ALICE, "unsubscribe", "alice@example.org")
    answer = requests.post(f"{web.url}/a/{BOB}/{alices}", data=ONE_CLICK, timeout=10)
    assert answer.status_code == 403 and "someone else&#x27;s" in answer.text
    assert web.inbox_rows() == []


def test_an_expired_link_is_refused(web):
    link = web.link(ALICE, "unsubscribe", "alice@example.org",
                    expires=datetime.now(timezone.utc) - timedelta(minutes=1))
    for answer in (requests.get(link, timeout=10), requests.post(link, data=ONE_CLICK, timeout=10)):
        assert answer.status_code == 410 and "expired" in answer.text
    assert web.inbox_rows() == []


def test_a_disabled_action_is_refused(tmp_path):
    with WebApp(tmp_path, **{"retention.reader_keeps": "off", "users.reader_can_extend_days": 0}) as web:
        for action in ("keep", "still_here"):
            link = web.link(ALICE, action, "120")
            assert requests.get(link, timeout=10).status_code == 403
            assert requests.post(link, data={"csrf": "x"}, timeout=10).status_code == 403
        assert web.inbox_rows() == []


def test_an_oversized_body_is_refused_unread(web):
    link = web.link(ALICE, "keep", "120")
    big = requests.post(link, data={"csrf": "x" * 10_000}, timeout=10)
    assert big.status_code == 413 and "Too much data" in big.text

    def chunks():  # no Content-Length: the stream is cut off at the limit
        for _ in range(10):
            yield b"a" * 1000

    assert requests.post(link, data=chunks(), timeout=10).status_code == 413
    assert web.inbox_rows() == []


def test_an_endless_request_head_is_cut_off_and_the_connection_closed(web):
    """httptools alone buffers a head without end; the server answers 400 and closes once it passes 16 KiB."""
    import socket

    host, port = web.url.removeprefix("http://").split(":")
    link = web.link(ALICE, "keep", "120").removeprefix(web.url)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {link} HTTP/1.1\r\nHost: marquee.example.org\r\nX-Padding: ".encode())
        try:
            for _ in range(1024):  # up to 64 MiB of one header value, 64 KiB at a time
                conn.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server hung up mid-head, as it should
        answer = b""
        try:
            while chunk := conn.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    # and the server still answers others
    assert requests.get(web.link(BOB, "keep", "121"), timeout=10).status_code == 200


def test_pipelined_heads_are_each_counted_on_their_own(web):
    """Two requests on one connection, each head under 16 KiB but together over it, split across reads so that
    one read ends the first head and begins the second: both are answered, neither gets a false 400."""
    import socket
    import time

    host, port = web.url.removeprefix("http://").split(":")
    first, second = (web.link(uid, "keep", key).removeprefix(web.url) for uid, key in ((ALICE, "120"), (BOB, "121")))
    pad = "a" * 7000
    head1 = f"GET {first} HTTP/1.1\r\nHost: marquee.example.org\r\nX-A: {pad}\r\nX-B: {pad}\r\n\r\n".encode()
    head2 = f"GET {second} HTTP/1.1\r\nHost: marquee.example.org\r\nX-A: {pad}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cut = 9000
        conn.sendall(head1[:cut])                      # a read that ends inside the first head
        time.sleep(0.3)
        conn.sendall(head1[cut:] + head2[:4000])       # ends the first head, begins the second
        time.sleep(0.3)
        conn.sendall(head2[4000:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200") == 2 and b"HTTP/1.1 400" not in answer, answer[:200]


def test_the_rate_limit_per_link_and_per_address(tmp_path):
    with WebApp(tmp_path, **{"web.per_link_per_minute": 3, "web.per_ip_per_minute": 5}) as web:
        link = web.link(ALICE, "keep", "120")
        codes = [requests.get(link, timeout=10).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # Behind the proxy each reader is their own address (X-Forwarded-For from a trusted proxy only).
        other = web.link(BOB, "keep", "121")
        codes = [requests.get(other, timeout=10).status_code for _ in range(2)]
        assert codes == [200, 429]  # 5 per address: this client used 4 + 1
        fresh = requests.get(web.link(BOB, "keep", "122"), headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert fresh.status_code == 200
        blocked = requests.post(link, data=ONE_CLICK, timeout=10)
        assert blocked.status_code == 429
        assert web.inbox_rows() == []


def test_names_and_titles_are_escaped(web):
    link = web.link(ALICE, "keep", "120", label='<script>alert(1)</script> & "Heat"')
    page = requests.get(link, timeout=10).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Heat&quot;" in page
    assert "<meta name=\"viewport\"" in page and "prefers-color-scheme:dark" in page and "<script" not in page


def test_unknown_paths_and_methods_get_a_page(web):
    assert requests.get(f"{web.url}/admin", timeout=10).status_code == 404
    assert requests.put(web.link(ALICE, "keep", "120"), timeout=10).status_code == 405
