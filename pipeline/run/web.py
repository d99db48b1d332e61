"""`invoke web`: serve the reader-actions app on web.bind:web.port with uvicorn, behind the admin's proxy."""

from __future__ import annotations

import logging
import threading
import time

from pipeline.errors import ConfigError, MarqueeError
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def web_config(settings: Settings):
    """The uvicorn Config: no access log (it would write client addresses), no proxy rewriting (the app does it)."""
    import uvicorn

    from pipeline.web.app import create_app
    from pipeline.web.http import BoundedHttpTools

    # httptools with a bounded request head (pipeline/web/http.py); the standard asyncio loop, as uvloop answered
    # no faster here and with a longer tail.
    return uvicorn.Config(create_app(settings), host=settings.web.bind, port=settings.web.port, access_log=False,
                          proxy_headers=False, server_header=False, date_header=False, log_level="warning",
                          timeout_keep_alive=5, http=BoundedHttpTools, loop="asyncio", lifespan="on")


def serve_web(settings: Settings) -> None:
    """Run the app until interrupted; refuses to start without web.public_url (no e-mail would link to it)."""
    import uvicorn

    if not settings.web.public_url:
        raise ConfigError("web.public_url: set the HTTPS address your reverse proxy serves the app at "
                          "(e.g. https://marquee.example.org); without it no e-mail links here")
    log.info("reader actions on http://%s:%s (public %s)", settings.web.bind, settings.web.port,
             settings.web.public_url)
    uvicorn.Server(web_config(settings)).run()


class WebThread:
    """The app in a thread of another process (`invoke daemon` starts it when web.public_url is set)."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        self.server = uvicorn.Server(web_config(settings))
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self) -> "WebThread":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise MarqueeError(f"the reader-actions web app did not start on {self.server.config.host}:"
                                   f"{self.server.config.port} (is the port taken? set web.port)")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
