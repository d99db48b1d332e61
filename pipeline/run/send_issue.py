"""`invoke send`: one frozen issue's digest for every reader, through the ledger, exactly once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Iterator

from pipeline.run.build import resolve_exclusions
from pipeline.render.charts import render_issue_charts
from pipeline.render.year_charts import year_chart_specs
from pipeline.clock import Clock
from pipeline.errors import ConfigError, MarqueeError
from pipeline.render.email.notice import DigestRenderer, EmailImages
from pipeline.render.email.images import images_mode
from pipeline.ingest.posters import cache_dir_for, fetch_posters
from pipeline.ingest.inbox import take_inbox
from pipeline.run.libraries import issue_access, public_sections
from pipeline.run.reader_notices import reader_notices
from pipeline.render.site.generate import poster_items
from pipeline.send.address import normalize
from pipeline.send.backend import no_delivery
from pipeline.send.ledger import sent_to
from pipeline.render.email.message import OutgoingMessage, Recipient
from pipeline.send.recipients import digest_recipients
from pipeline.send.run import SendSummary, send_messages
from pipeline.settings import Settings
from pipeline.stats.snapshots import list_snapshots, load_snapshot
from pipeline.store import Store



YEARLY_SEND_DAYS = 31  # the year in review goes out with the sends of the month after its year ends


def latest_issue_key(store: Store, settings: Settings) -> str:
    issues = list_snapshots(store, settings.newsletter.period) or list_snapshots(store)
    if not issues:
        raise MarqueeError("no issue has been built yet; run `invoke build` first")
    return issues[0]["issue_key"]


def due_issue_keys(store: Store, settings: Settings, clock: Clock) -> list[str]:
    """What `invoke send` sends without --issue: the latest issue, and the latest year in review while it is new.

    Each issue has its own ledger key, so sending the yearly issue again with every weekly send reaches
    only readers who have not had it yet.
    """
    keys = [latest_issue_key(store, settings)]
    years = list_snapshots(store, "yearly") if settings.newsletter.yearly else []
    if years and clock.now() < years[0]["ends_at"] + timedelta(days=YEARLY_SEND_DAYS):
        keys += [years[0]["issue_key"]] if years[0]["issue_key"] not in keys else []
    return keys


def issue_images(settings: Settings, issue_key: str, snapshot: dict) -> EmailImages:
    """Charts as PNG (rendered once per issue, cached) and the posters the site build already cached."""
    charts_dir = Path(settings.data.dir) / "cache" / "email-charts" / issue_key
    months = (snapshot.get("year") or {}).get("months")
    charts = render_issue_charts(snapshot, charts_dir, year_chart_specs({"months": months}))
    posters = {}
    if settings.plex.configured:
        posters = fetch_posters(poster_items([snapshot]), settings.plex, cache_dir_for(settings.data.dir))
    return EmailImages(posters=posters, charts=charts)


def _check_hosted(settings: Settings, renderer: DigestRenderer) -> None:
    """Hosted images must already be on the site, or every reader sees broken images."""
    if images_mode(settings.email.images, settings.site.siteurl) != "hosted":
        return
    missing = [p for p in renderer.hosted_files if not (settings.site.output_dir / p).is_file()]
    if missing:
        raise MarqueeError(f"{len(missing)} e-mail images are not in {settings.site.output_dir}/ (e.g. {missing[0]}); "
                           "run `invoke build` and `invoke publish --apply` before sending with hosted images")


def reader_extras(store: Store, settings: Settings, clock: Clock) -> dict[int, dict]:
    """user_id -> the notices about that reader in their digest (email_personal.notices): what of theirs leaves,
    and a warned reader's coming removal."""
    return reader_notices(store, settings, clock.now())


def send_issue(store: Store, settings: Settings, clock: Clock, *, issue_key: str | None = None,
               apply: bool = False, to: str | None = None, resend_unknown: bool = False) -> SendSummary:
    """Render and send (or, without apply, write as .eml) the digest of one frozen issue."""
    refused = no_delivery(settings.email.backend) if apply else None
    if refused:
        raise ConfigError(refused)  # before anything is rendered; send_messages would refuse it too
    public_sections(store, settings)  # a misnamed site.public_libraries stops the send before anything changes
    take_inbox(store, settings, clock.now())  # an unsubscribe from the web app counts before this send
    settings = resolve_exclusions(store, settings)
    key = issue_key or latest_issue_key(store, settings)
    snapshot = load_snapshot(store, key)
    if snapshot is None:
        raise MarqueeError(f"issue {key!r} has not been built; `invoke build --period ...` builds it")
    access = issue_access(store, settings, [snapshot])
    renderer = DigestRenderer(snapshot, settings, images=issue_images(settings, key, snapshot), clock=clock,
                              sections_of=access.sections_of)
    if apply:
        _check_hosted(settings, renderer)

    if to:
        preview = _preview(renderer, to, key, clock)
        return send_messages(store, settings, [preview], apply=apply, clock=clock)

    recipients, skipped = digest_recipients(store, settings)  # reported once, in the summary below
    done = sent_to(store, key) if apply else set()
    extras = reader_extras(store, settings, clock)

    def messages() -> Iterator[OutgoingMessage]:
        for recipient in recipients:
            if recipient.email not in done:  # already delivered: don't even render it
                yield renderer.render(recipient, extras.get(recipient.user_id), access.of(recipient.user_id))

    summary = send_messages(store, settings, messages(), apply=apply, resend_unknown=resend_unknown, clock=clock)
    summary.lines[:0] = [f"not sent: {line}" for line in skipped]
    if done:
        summary.skipped_already_sent += len(done)
    return summary


def _preview(renderer: DigestRenderer, to: str, key: str, clock: Clock) -> OutgoingMessage:
    """A one-off copy for the admin; its own ledger key, so it never counts as the reader's delivery."""
    address = normalize(to)
    if address is None:
        raise MarqueeError(f"--to {to!r} is not an e-mail address")
    message = renderer.render(Recipient(email=address, user_id=None, name="", kind="admin"))
    return dataclasses.replace(message, kind="preview", key=f"preview:{key}:{clock.now():%Y%m%dT%H%M%S}")
