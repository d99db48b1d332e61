"""plex.tv's PIN routes on loopback, as plexapi 4.18.3's MyPlexPinLogin uses them (checked against its code).

- `POST /api/v2/pins` (no token; X-Plex-Client-Identifier required) answers 201 with `<pin id code ...>`.
- `GET /api/v2/pins/{id}` answers the pin, with `authToken` once someone linked it at plex.tv/link; a pin that
  expired, was deleted, or belongs to another client identifier answers 404 (plexapi then gives up on it).
- `DELETE /api/v2/pins/{id}` forgets the pin (204).

A test decides what happens to the next pin with `script(outcome, after_polls)`, or acts on a pin by its
code with `approve` / `expire` / `cancel`.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass

from pipeline.sandbox.http import Request, Response
from pipeline.sandbox.plex_xml import XML, element, render

EXPIRES_IN = 900  # seconds a 4-character code lives on plex.tv
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: the code is typed by hand


@dataclass
class Pin:
    id: int
    code: str
    client: str
    created_at: int
    token: str = ""       # set once approved
    gone: bool = False    # expired or cancelled: 404 from now on
    polls: int = 0


class PinDesk:
    """The pins plex.tv has handed out; `token` is what an approval links them to."""

    def __init__(self, token: str, now: int) -> None:
        self.token, self.now = token, now
        self.pins: dict[int, Pin] = {}
        self._ids = itertools.count(1_000_001)
        self._script: tuple[str, int] | None = None
        self._lock = threading.Lock()

    # -- what tests drive -------------------------------------------------------------------------------
    def script(self, outcome: str, after_polls: int = 1) -> None:
        """The next pins become `outcome` ("approved" | "expired" | "cancelled") after that many polls."""
        assert outcome in ("approved", "expired", "cancelled")
        self._script = (outcome, after_polls)

    def approve(self, code: str) -> None:
        self._by_code(code).token = self.token

    def expire(self, code: str) -> None:
        self._by_code(code).gone = True

    cancel = expire  # plex.tv answers a cancelled pin as it answers an expired one

    def _by_code(self, code: str) -> Pin:
        with self._lock:
            return next(p for p in self.pins.values() if p.code == code)

    # -- routes ---------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        """The answer for a PIN route, or None when the path is not one."""
        match = re.fullmatch(r"/api/v2/pins(?:/(\d+))?/?", request.path)
        if match is None:
            return None
        client = request.headers.get("x-plex-client-identifier", "")
        if not client:
            return _error(400, 1000, "X-Plex-Client-Identifier is missing")
        with self._lock:
            if match.group(1) is None:
                if request.method != "POST":
                    return _error(405, 1000, "Method not supported by the sandbox")
                return self._create(client, request.query.get("strong") in ("true", "True", "1"))
            pin = self.pins.get(int(match.group(1)))
            if pin is None or pin.gone or pin.client != client:
                return _error(404, 1020, "Code not found or expired")
            if request.method == "DELETE":
                pin.gone = True
                return Response(204, b"", XML)
            if request.method not in ("GET", "HEAD"):
                return _error(405, 1000, "Method not supported by the sandbox")
            pin.polls += 1
            self._play_script(pin)
            if pin.gone:
                return _error(404, 1020, "Code not found or expired")
            return self._answer(pin, 200)

    def _create(self, client: str, strong: bool) -> Response:
        pin_id = next(self._ids)
        n = pin_id * 2_654_435_761
        length = 25 if strong else 4
        code = "".join(CODE_LETTERS[(n >> (5 * i)) % len(CODE_LETTERS)] for i in range(length))
        pin = self.pins[pin_id] = Pin(pin_id, code, client, self.now)
        return self._answer(pin, 201)

    def _play_script(self, pin: Pin) -> None:
        if self._script is None or pin.token or pin.gone:
            return
        outcome, after = self._script
        if pin.polls >= after:
            if outcome == "approved":
                pin.token = self.token
            else:
                pin.gone = True

    @staticmethod
    def _answer(pin: Pin, status: int) -> Response:
        # authToken is empty, not absent, until the code is linked: plexapi tests it for truth.
        root = element("pin", id=pin.id, code=pin.code, product="Marquee", trusted="0",
                       qr=f"https://plex.tv/api/v2/pins/qr/{pin.code}", clientIdentifier=pin.client,
                       expiresIn=EXPIRES_IN, createdAt=pin.created_at, expiresAt=pin.created_at + EXPIRES_IN,
                       authToken=pin.token, newRegistration="")
        element("location", root, code="US", european_union_member="0", continent_code="NA", country="United States",
                city="", time_zone="UTC", postal_code="", in_privacy_restricted_country="0",
                in_privacy_restricted_region="0", subdivisions="", coordinates="")
        return Response(status, render(root), XML)


def _error(status: int, code: int, message: str) -> Response:
    root = element("errors")
    element("error", root, code=code, message=message, status=status)
    return Response(status, render(root), XML)
