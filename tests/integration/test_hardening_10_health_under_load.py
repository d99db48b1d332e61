"""Issue 11, item 10: the daemon's health endpoint under a burst of probes and with clients that never send."""

import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from pipeline.clock import FixedClock
from pipeline.run.health import Health, HealthServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PATIENCE = 60.0  # seconds: only guards against a hang, nothing here is timed


@pytest.fixture
def server():
    state = Health(FixedClock(T0), window=timedelta(minutes=60), starting=timedelta(minutes=30))
    server = HealthServer(state, "127.0.0.1", 0, idle_seconds=0.5).start()
    yield server
    server.stop()


def test_200_probes_at_once_are_all_answered(server):
    """Item 10: 200 concurrent GET /health all get their answer (a listen backlog, not socketserver's 5)."""
    barrier = threading.Barrier(200)
    codes: list[int | str] = []

    def probe() -> None:
        barrier.wait()
        try:
            codes.append(requests.get(server.url, timeout=PATIENCE).status_code)
        except requests.RequestException as exc:
            codes.append(type(exc).__name__)

    threads = [threading.Thread(target=probe) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 200


@pytest.mark.parametrize("sent", [b"", b"GET /hea"], ids=["never sends", "stalls mid-request"])
def test_a_silent_client_is_cut_off_and_never_blocks_the_others(server, sent):
    """Item 10: a connection that sends nothing (or half a request) is closed by the server's socket timeout."""
    host, port = server._httpd.server_address[:2]
    with socket.create_connection((host, port), timeout=PATIENCE) as idle:
        idle.sendall(sent)
        for _ in range(3):  # others are answered while it holds its connection
            assert requests.get(server.url, timeout=PATIENCE).status_code == 200
        idle.settimeout(PATIENCE)
        try:
            rest = idle.recv(4096)
            while rest and b"\r\n\r\n" not in rest:  # a stalled request may get a 408-style answer first
                rest += idle.recv(4096)
            closed = rest == b"" or idle.recv(4096) == b""
        except ConnectionResetError:
            closed = True
    assert closed, "the server kept a silent connection open"
