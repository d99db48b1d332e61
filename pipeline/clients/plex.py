"""The one requests.Session and the plexapi objects Marquee uses to reach Plex and plex.tv.

plexapi hard-codes https://plex.tv, so a sandbox (or a proxy) is reached by mounting an adapter on that
prefix which rewrites each request to `plex.plextv_url`; nothing in plexapi is patched.
"""

from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import requests
from requests.adapters import HTTPAdapter

from pipeline.clients.http import Upstream, new_session, page, reason
from pipeline.errors import BadResponse, ConfigError, Unreachable
from pipeline.logs import REDACTOR, RedactingFilter

if TYPE_CHECKING:
    from plexapi.myplex import MyPlexAccount
    from plexapi.server import PlexServer

    from pipeline.settings import PlexSettings

log = logging.getLogger(__name__)

PLEXTV = "https://plex.tv"


class _Rewrite(HTTPAdapter):
    """Sends https://plex.tv/<path>?<query> to <target>/<path>?<query>, headers untouched."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        assert request.url is not None
        request.url = self.target + request.url[len(PLEXTV):]
        return super().send(request, **kwargs)


class _Unverified(HTTPAdapter):
    """Skips certificate checks for the PMS only, so plex.tv stays verified even with verify_tls off."""

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        kwargs["verify"] = False
        return super().send(request, **kwargs)


def make_session(plex: "PlexSettings") -> requests.Session:
    """A session for both PlexServer and MyPlexAccount: TLS per settings, plex.tv redirected if asked, and
    an HTML page (a proxy's sign-in, say) named for what it is instead of reaching plexapi's XML parser."""
    session = new_session()
    if not plex.verify_tls and plex.url:
        session.mount(plex.url.rstrip("/") + "/", _Unverified())
    if plex.plextv_url.rstrip("/") != PLEXTV:
        session.mount(PLEXTV + "/", _Rewrite(plex.plextv_url))
    session.hooks["response"].append(_refuse_pages(plex))
    return session


def _refuse_pages(plex: "PlexSettings") -> Callable[..., None]:
    """A response hook raising BadResponse for a 2xx HTML page; statuses stay plexapi's (callers catch NotFound)."""
    token = plex.token.get_secret_value()
    pms = Upstream("Plex", plex.url, url_setting="PLEX_URL", key_setting="PLEX_TOKEN", secrets=[token])
    tv = Upstream("plex.tv", plex.plextv_url, url_setting="plex.plextv_url", key_setting="PLEX_TOKEN", secrets=[token])

    def hook(response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.status_code >= 300:
            return
        failure = page(response, f"{response.request.method} {urlsplit(response.url).path or '/'}")
        if failure is not None:  # a proxy's sign-in may sit on another host: only plex.tv's own URL is plex.tv
            raise (tv if response.url.startswith(plex.plextv_url.rstrip("/")) else pms).error(failure)
    return hook


def disable_autoreload() -> None:
    """Stop plexapi re-fetching /library/metadata/{rk} whenever an absent attribute is read.

    plexapi 4.18.3 reads `plexapi.autoreload` from CONFIG every time it builds an object, the
    environment first and then CONFIG.data, so setting CONFIG.data works after import.
    """
    import plexapi

    env = os.environ.get("PLEXAPI_PLEXAPI_AUTORELOAD")
    if env is not None and env.strip().lower() not in ("0", "false"):
        raise ConfigError("PLEXAPI_PLEXAPI_AUTORELOAD turns plexapi's hidden reloads on; unset it or set it to false")
    plexapi.CONFIG.data.setdefault("plexapi", {})["autoreload"] = "false"


@contextmanager
def plex_errors(what: str, url: str, token: str = "") -> Iterator[None]:
    """Turn requests/plexapi failures into Unreachable / BadResponse with a one-line, token-free message.

    what: "Plex" or "plex.tv"; url: the base URL named in the message; token: scrubbed from any text.
    """
    from plexapi.exceptions import BadRequest, NotFound, Unauthorized

    scrub = RedactingFilter([token]).redact
    try:
        yield
    except Unauthorized:
        raise BadResponse(f"{what} rejected the token (401); check PLEX_TOKEN") from None
    except (BadRequest, NotFound) as exc:
        match = re.match(r"\((\d+)\) (\w+)", str(exc))
        status = f"{match.group(1)} {match.group(2)}" if match else "an error"
        log.debug("%s error: %s", what, scrub(str(exc)))
        raise BadResponse(scrub(f"{what} at {url} answered {status}; check its logs and try again")) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        if isinstance(exc, requests.exceptions.SSLError):
            raise Unreachable(scrub(f"{what} at {url} is not reachable: TLS certificate check failed "
                                    "(set plex.verify_tls = false for a self-signed certificate)")) from None
        log.debug("%s connection error: %s", what, scrub(str(exc)))
        raise Unreachable(scrub(f"{what} at {url} is not reachable: {reason(exc)}")) from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        log.debug("%s broken body: %s", what, scrub(str(exc)))
        raise BadResponse(scrub(f"{what} at {url} sent a response that was cut off")) from None
    except ParseError as exc:
        raise BadResponse(scrub(f"{what} at {url} sent XML that cannot be parsed ({exc})")) from None


def connect_server(plex: "PlexSettings", session: requests.Session | None = None) -> "PlexServer":
    """PlexServer for plex.url (one GET /), with autoreload off and the timeout from settings."""
    from plexapi.server import PlexServer

    disable_autoreload()
    token = plex.token.get_secret_value()
    REDACTOR.add(token)
    with plex_errors("Plex", plex.url, token):
        return PlexServer(plex.url, token, session=session or make_session(plex), timeout=plex.timeout_seconds)


def connect_account(plex: "PlexSettings", session: requests.Session | None = None) -> "MyPlexAccount":
    """MyPlexAccount for the owner's token (one GET {plextv_url}/api/v2/user)."""
    from plexapi.myplex import MyPlexAccount

    disable_autoreload()
    token = plex.token.get_secret_value()
    REDACTOR.add(token)
    with plex_errors("plex.tv", plex.plextv_url, token):
        return MyPlexAccount(token=token, session=session or make_session(plex), timeout=plex.timeout_seconds)


def connect(plex: "PlexSettings", session: requests.Session | None = None) -> tuple["PlexServer", "MyPlexAccount"]:
    """Both ends over one session; raises Unreachable or BadResponse with a message that says what to fix."""
    session = session or make_session(plex)
    return connect_server(plex, session), connect_account(plex, session)
