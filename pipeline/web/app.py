"""The reader-actions web app: a signed link's GET shows one button; only a POST acts, and lands in the inbox.

Starlette on uvicorn: small, maintained, async, so answers can wait on the inbox's shared commit without a
thread each. The app never opens the DuckDB store; every run takes the inbox in first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Callable

from itsdangerous import BadSignature, TimestampSigner
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from pipeline.tokens import BadToken, Claim, Signer, secret_key
from pipeline.web import inbox
from pipeline.web.limits import Limiter
from pipeline.web.pages import Page, problem, render

if TYPE_CHECKING:
    from pipeline.settings import Settings

log = logging.getLogger(__name__)
MAX_BODY = 2048  # a form with two short fields; anything larger is refused unread
ONE_CLICK = b"List-Unsubscribe=One-Click"
CSRF_SECONDS = 24 * 3600
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
           "form-action 'self'; frame-ancestors 'none'"}
WORDS = {  # action -> (question, what it does, button, done title, already title)
    "keep": ("Keep “{label}”?", "It is due to leave {server}. Keeping it cancels the deletion.", "Keep it",
             "Kept: “{label}”", "“{label}” is already kept"),
    "done": ("Done with “{label}”?", "This tells {server} you have finished it, even if you watched it elsewhere. "
             "It may then go once everyone it is for is done.", "I'm done with it",
             "Noted: you're done with “{label}”", "You already said you're done with “{label}”"),
    "unsubscribe": ("Unsubscribe {label}?", "You will get no more newsletters from {server}. Notices about your own "
                    "account and the titles you watch still reach you.", "Unsubscribe",
                    "You're unsubscribed", "You're already unsubscribed"),
    "still_here": ("Still here?", "Your access to {server} was due to end on {label}. Press the button to postpone "
                   "that once, by {days:g} days.", "I'm still here", "Thanks: your access stays {days:g} more days",
                   "You already told us you're still here"),
}


class ActionApp:
    """The routes, the signer, the limits and the inbox writer for one settings object."""

    def __init__(self, settings: "Settings", *, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        key = secret_key(settings)
        self.signer = Signer(key)
        self.csrf = TimestampSigner(key, salt="marquee-csrf-v1")
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.per_ip = Limiter(settings.web.per_ip_per_minute)
        self.per_link = Limiter(settings.web.per_link_per_minute)
        self.trusted = set(settings.web.trusted_proxies)
        self.writer: inbox.Writer | None = None
        self.inbox_path = Path(settings.data.dir) / inbox.INBOX_FILE
        self.reader = inbox.connect(self.inbox_path)
        self.app = Starlette(routes=[Route("/a/{reader}/{token}", self.action, methods=["GET", "POST"]),
                                     Route("/health", self.health, methods=["GET"])],
                             lifespan=self._lifespan)
        self.app.add_exception_handler(404, self._not_found)
        self.app.add_exception_handler(405, self._not_allowed)

    # -- lifecycle ----------------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()  # one wake-up of this loop answers a whole committed batch
        self.writer = inbox.Writer(self.inbox_path, fsync=self.settings.web.inbox_fsync,
                                   deliver=lambda settled: loop.call_soon_threadsafe(_settle, settled))
        try:
            yield
        finally:
            self.writer.close()
            self.reader.close()

    # -- helpers ------------------------------------------------------------------------------------------------
    def _page(self, page: Page) -> HTMLResponse:
        return HTMLResponse(render(page, self.settings.server.name), page.status, headers=HEADERS)

    def _client(self, request: HttpRequest) -> str:
        peer = request.client.host if request.client else ""
        forwarded = request.headers.get("x-forwarded-for", "")
        if peer in self.trusted and forwarded:
            return forwarded.split(",")[-1].strip()  # the address our own proxy saw
        return peer

    def _when(self) -> str:
        return (f"{self.settings.server.name} takes this in on its next run (every "
                f"{self.settings.daemon.inactivity_minutes:g} minutes when its daemon runs), and always before it "
                "deletes anything or sends its next e-mail.")

    def _csrf_for(self, token: str) -> str:
        return self.csrf.sign(hashlib.sha256(token.encode()).hexdigest()[:32]).decode()

    def _csrf_ok(self, token: str, value: str) -> bool:
        try:
            signed = self.csrf.unsign(value, max_age=CSRF_SECONDS).decode()
        except (BadSignature, UnicodeError):
            return False
        return signed == hashlib.sha256(token.encode()).hexdigest()[:32]

    def _check(self, reader: str, token: str) -> Claim | Page:
        try:
            claim = self.signer.claim(token)
        except BadToken:
            return problem(400, "This link is not valid", "It may have been cut short or changed on the way. "
                           "Open it again from the e-mail.")
        if not reader.isdigit() or int(reader) != claim.reader:
            return problem(403, "This link is someone else's", "Action links work only for the reader they were "
                           "sent to.")
        if claim.expires < self.now().timestamp():
            return problem(410, "This link has expired", "Use the link in a more recent e-mail.")
        if claim.action == "keep" and self.settings.retention.reader_keeps != "on":
            return problem(403, "Keeping titles is turned off", "This server does not let readers keep titles from "
                           "the e-mail. Ask whoever runs it.")
        if claim.action == "still_here" and self.settings.users.reader_can_extend_days <= 0:
            return problem(403, "This action is turned off", "This server does not postpone removals from the "
                           "e-mail. Play anything to keep your access.")
        return claim

    def _words(self, claim: Claim) -> list[str]:
        fill = {"label": claim.label or "this title", "server": self.settings.server.name,
                "days": self.settings.users.reader_can_extend_days}
        return [w.format(**fill) for w in WORDS[claim.action]]

    async def _body(self, request: HttpRequest) -> bytes | None:
        """The request body, or None when it is larger than MAX_BODY (read no further)."""
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return None
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BODY:
                return None
        return data

    async def _record(self, claim: Claim, action: str) -> str:
        """Append to the inbox and wait until it is committed; DONE, ALREADY or LIMIT."""
        assert self.writer is not None, "the app was not started"
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        keeps = self.settings.retention.reader_keeps_per_month
        request = inbox.Request(claim.reader, action, claim.target, self.now(), keeps)
        self.writer.submit(request, future)
        return await future

    # -- routes -------------------------------------------------------------------------------------------------
    async def health(self, request: HttpRequest) -> Response:
        return PlainTextResponse("ok", headers=HEADERS)

    async def _not_found(self, request: HttpRequest, exc: Exception) -> Response:
        return self._page(problem(404, "Nothing here", "This address is not an action link."))

    async def _not_allowed(self, request: HttpRequest, exc: Exception) -> Response:
        return self._page(problem(405, "Not like this", "Open the link from the e-mail and press its button."))

    async def action(self, request: HttpRequest) -> Response:
        reader, token = request.path_params["reader"], request.path_params["token"]
        if not self.per_ip.allow(self._client(request)) or not self.per_link.allow(token):
            return self._page(problem(429, "Too many requests", "Wait a minute, then try again."))
        if request.method == "POST":
            body = await self._body(request)
            if body is None:
                return self._page(problem(413, "Too much data", "This form sends two short fields, no more."))
        checked = self._check(reader, token)
        if isinstance(checked, Page):
            return self._page(checked)
        claim = checked
        question, what, button, done_title, already_title = self._words(claim)
        if request.method == "GET":  # mail scanners fetch every link: a GET only shows the button
            state = inbox.current(self.reader, claim.reader, claim.action, claim.target)
            if claim.action == "unsubscribe" and state == "unsubscribe":
                return self._page(Page(200, done_title, ("Changed your mind?",), "Resubscribe", "resubscribe",
                                       self._csrf_for(token), quiet=True))
            if state == claim.action:
                return self._page(Page(200, already_title, (self._when(),)))
            return self._page(Page(200, question, (what,), button, "", self._csrf_for(token),
                                   note="Nothing happens until you press the button."))
        if body == ONE_CLICK:  # RFC 8058: the mail client's POST acts at once, no page, no CSRF field
            if claim.action != "unsubscribe":
                return self._page(problem(400, "Not a one-click action", "Only unsubscribing works in one click."))
            outcome = await self._record(claim, "unsubscribe")
            if isinstance(outcome, BaseException):
                log.error("inbox write failed: %s", outcome)
                return PlainTextResponse("not recorded; try again", 503, headers=HEADERS)
            return PlainTextResponse("unsubscribed", headers=HEADERS)
        form = _form(body)
        if not self._csrf_ok(token, form.get("csrf", "")):
            return self._page(problem(403, "Please use the button", "This form is out of date or did not come from "
                                      "the page. Open the link from the e-mail again."))
        action = claim.action
        if form.get("choice") == "resubscribe" and claim.action == "unsubscribe":
            action = "resubscribe"
        outcome = await self._record(claim, action)
        if isinstance(outcome, BaseException):
            log.error("inbox write failed: %s", outcome)
            return self._page(problem(503, "Not recorded", "Something went wrong on our side. Try again shortly."))
        if outcome == inbox.LIMIT:
            n = self.settings.retention.reader_keeps_per_month
            return self._page(problem(429, "No keeps left this month", f"Each reader may keep {n} "
                                      f"title{'s' if n != 1 else ''} a month. Ask whoever runs the server."))
        if action == "resubscribe":
            title = "You're subscribed again" if outcome == inbox.DONE else "You're already subscribed"
            return self._page(Page(200, title, (self._when(),)))
        if outcome == inbox.ALREADY:
            return self._page(Page(200, already_title, (self._when(),)))
        if claim.action == "unsubscribe":
            return self._page(Page(200, done_title, (self._when(),), "Resubscribe", "resubscribe",
                                   self._csrf_for(token), quiet=True))
        return self._page(Page(200, done_title, (self._when(),)))


def _settle(settled: list[tuple[asyncio.Future, object]]) -> None:
    for future, outcome in settled:
        if not future.done():  # a client that hung up cancelled its wait; the action stays recorded
            future.set_result(outcome)


def _form(body: bytes) -> dict[str, str]:
    from urllib.parse import parse_qs

    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=4)
    except (UnicodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items() if v}


def create_app(settings: "Settings", *, now: Callable[[], datetime] | None = None) -> Starlette:
    """The ASGI app for uvicorn (or a test client)."""
    return ActionApp(settings, now=now).app
