"""What each invoke task does, as plain functions that tests call without invoke."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Callable

from pipeline import logs
from pipeline.clock import Clock, SystemClock
from pipeline.errors import MarqueeError
from pipeline.settings import Settings, load_settings
from pipeline.store import open_store

log = logging.getLogger("marquee")


def guarded(fn: Callable[..., object], *args: object, **kwargs: object) -> int:
    """Run a command; a MarqueeError becomes one line on stderr and an exit code."""
    try:
        fn(*args, **kwargs)
    except MarqueeError as exc:
        log.debug("failed", exc_info=True)
        print(f"error: {logs.REDACTOR.redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    return 0


def settings_for(config: str | None, verbose: bool = False) -> Settings:
    settings = load_settings(config)
    logs.setup(settings.secrets(), verbose=verbose, timezone=settings.server.timezone)
    return settings


def ingest(settings: Settings, clock: Clock | None = None) -> None:
    """Copy Tautulli history and the Plex inventory into the store."""
    from pipeline.ingest.run import run_ingest

    with open_store(settings) as store:
        summary = run_ingest(store, settings, clock or SystemClock(), calendars=True)
    for line in summary.lines():
        print(line)


def build(settings: Settings, clock: Clock | None = None, *, period: str | None = None,
          rebuild: bool = False, ingest_first: bool = True) -> None:
    """Ingest, freeze the issues that are due, and build the archive site."""
    from pipeline.run.build import build_site
    from pipeline.ingest.run import run_ingest

    clock = clock or SystemClock()
    with open_store(settings) as store:
        if ingest_first and settings.tautulli.configured:
            # By dates: an issue may be frozen from this ingest, so every edit in the overlap must be in it.
            for line in run_ingest(store, settings, clock, calendars=True, by_dates=True).lines():
                print(line)
        elif ingest_first:
            log.warning("Tautulli is not configured: building from the data already in the store")
        result = build_site(store, settings, clock, period_key=period, rebuild=rebuild)
    for line in result.lines():
        print(line)
    print(f"Open {(result.site.output_dir / 'index.html').resolve()} (or `invoke serve`)")


def site_server(settings: Settings, port: int = 8000, bind: str = "127.0.0.1"):
    """The HTTP server `invoke serve` runs: the built site, minus what `invoke publish` never uploads."""
    import functools
    import http.server
    from urllib.parse import unquote, urlsplit

    from pipeline.run.publish import never_published

    root = settings.site.output_dir
    if not (root / "index.html").is_file():
        raise MarqueeError(f"no site in {root}/; run `invoke build` (or `invoke demo`) first")

    class SiteHandler(http.server.SimpleHTTPRequestHandler):
        def send_head(self):  # type: ignore[no-untyped-def]
            # e.g. an old output/outbox/ of readers' e-mails, left from before the outbox moved to data/
            if never_published(unquote(urlsplit(self.path).path)):
                self.send_error(404, "File not found")
                return None
            return super().send_head()

    return http.server.ThreadingHTTPServer((bind, port), functools.partial(SiteHandler, directory=str(root)))


def serve(settings: Settings, port: int = 8000, bind: str = "127.0.0.1") -> None:
    """Preview the built site on http://127.0.0.1:PORT until interrupted."""
    root = settings.site.output_dir
    with site_server(settings, port, bind) as httpd:
        print(f"Serving {root}/ on http://{bind}:{httpd.server_address[1]}/  (Ctrl-C stops)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


def publish(settings: Settings, *, apply: bool = False, delete: bool = False, clock: Clock | None = None) -> None:
    """Build the site with absolute URLs and upload what changed to S3 (a listing only without apply)."""
    from pipeline.run.build import build_site
    from pipeline.run.publish import publish as upload

    with open_store(settings) as store:
        build_site(store, settings, clock or SystemClock(), publish=True)
    plan = upload(settings.site.output_dir, settings.publish, apply=apply, delete=delete)
    for line in plan.lines():
        print(line)
    if not apply:
        print("Dry run: nothing was uploaded. Run `invoke publish --apply` to upload.")


def send(settings: Settings, clock: Clock | None = None, *, issue: str | None = None, apply: bool = False,
         to: str | None = None, resend_unknown: bool = False) -> None:
    """Send an issue's digest to every reader exactly once; without apply, write .eml files and list them.

    Without `issue`, the latest issue and, in the month after a year ends, its year in review.
    """
    from pipeline.run.send_issue import due_issue_keys, send_issue

    clock = clock or SystemClock()
    with open_store(settings) as store:
        keys = [issue] if issue or to else due_issue_keys(store, settings, clock)
        summaries = []
        for key in keys:
            summaries.append(send_issue(store, settings, clock, issue_key=key, apply=apply, to=to,
                                        resend_unknown=resend_unknown))
    for key, summary in zip(keys, summaries):
        for line in summary.lines:
            print(line)
        print(summary.line() if len(keys) == 1 else f"{key}: {summary.line()}")
    summary = _sum(summaries)
    if not apply:
        from pipeline.send.backend import no_delivery

        then = ("Set email.backend to smtp or ses, then run with --apply to send."
                if no_delivery(settings.email.backend) else "Run with --apply to send.")
        print(f"Dry run: nothing was sent; the messages are in {settings.email.outbox_dir}/dry-run/. {then}")
    if summary.unknown and not resend_unknown:
        print(f"{summary.unknown} message(s) may or may not have gone out when an earlier run stopped; "
              "check with the reader, then `invoke send --apply --resend-unknown` to send them again.")
    if summary.failed:
        raise MarqueeError(f"{summary.failed} message(s) failed; they are listed above and will not be retried")


def _sum(summaries: list) -> object:
    """One summary's counts across several issues (unknown and failed decide the exit)."""
    first = summaries[0]
    if len(summaries) > 1:
        first = dataclasses.replace(first, unknown=sum(s.unknown for s in summaries),
                                    failed=sum(s.failed for s in summaries))
    return first


def unsubscribe(settings: Settings, email: str, subscribe: bool = False) -> None:
    """Add an address to (or, with subscribe, remove it from) the local opt-out list."""
    from pipeline.send.optout import optin, optout

    with open_store(settings) as store:
        changed = optin(store, email) if subscribe else optout(store, email)
    state = "will get" if subscribe else "will no longer get"
    print(f"{email} {state} the newsletter{'' if changed else ' (no change: it already was so)'}")


def enforce(settings: Settings, clock: Clock | None = None, *, apply: bool = False, force: bool = False,
            scope: str = "all") -> None:
    """Show the lifecycle plan (who is welcomed, warned, removed, and why); with apply, carry it out."""
    from pipeline.run.enforce import run_enforce
    from pipeline.errors import RefusedToAct, StoppedPartway

    try:
        with open_store(settings) as store:
            result = run_enforce(store, settings, clock or SystemClock(), apply=apply, force=force, scope=scope)
    except StoppedPartway as stopped:
        for line in stopped.lines:  # what the steps before the failing one did
            print(logs.server_times(line, settings.server.timezone))
        raise
    for line in result.lines:
        print(logs.server_times(line, settings.server.timezone))
    if not apply:
        print(f"Dry run (enforce run {result.run_id}): nothing was sent or changed; the e-mails it would send are "
              f"in {settings.email.outbox_dir}/dry-run/. Run `invoke enforce --apply` to carry the plan out.")
    if result.refusals:
        refused = " or ".join(REFUSED.get(s, f"act ({s})") for s in result.refused_steps) or "act"
        n = len(result.refusals)
        raise RefusedToAct(f"enforcement refused to {refused} ({n} reason{'s' if n != 1 else ''} above); "
                           "fix the cause, or run with --force if you are sure")
    if result.failures:
        raise MarqueeError(f"{result.failures} action(s) failed (listed above); they are recorded and retried "
                           "on the next run")


REFUSED = {"users": "warn or remove anyone", "media": "delete any media"}  # what each enforce step refuses


def retention(settings: Settings, command: str, *args: object, clock: Clock | None = None, **kwargs: object) -> None:
    """Run one of pipeline.media.commands (assign, unassign, keep, queue_lines, status_lines); print its lines."""
    import pipeline.media.commands as retention_commands
    with open_store(settings) as store:
        lines = getattr(retention_commands, command)(store, settings, clock or SystemClock(), *args, **kwargs)
    for line in lines:
        print(logs.server_times(line, settings.server.timezone))


def daemon(settings: Settings, *, apply: bool = False, once: bool = False) -> None:
    """Run enforcement on a timer with a health endpoint, until SIGTERM or Ctrl-C."""
    from pipeline.run.daemon import daemon as run

    run(settings, apply=apply, once=once)


def web(settings: Settings) -> None:
    """Serve the reader-actions web app until Ctrl-C (it never opens the store)."""
    from pipeline.run.web import serve_web

    serve_web(settings)


def demo(root: Path = Path("."), clock: Clock | None = None, output: Path | None = None) -> Path:
    """Run the pipeline against the bundled sandbox; return the demo's data directory."""
    from pipeline.run.demo import run_demo

    return run_demo(root, clock or SystemClock(), output)
