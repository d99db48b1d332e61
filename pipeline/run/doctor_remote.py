"""`invoke doctor`'s checks of the systems Marquee talks to: each returns Checks and never raises a MarqueeError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.errors import MarqueeError, Unreachable

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None        # None: not checked (not configured, or nothing to check yet)
    detail: str            # what was found, one line
    fix: str = ""          # one line, when it is not ok
    needed: bool = True    # a failure fails the run (a configured feature needs it)


def tautulli(settings: "Settings") -> Check:
    from pipeline.clients.tautulli import TautulliClient

    conf = settings.tautulli
    if not conf.configured:
        return Check("Tautulli", False, "not configured: Marquee reads every play from Tautulli",
                     "set TAUTULLI_URL and TAUTULLI_API_KEY in .env (Tautulli > Settings > Web Interface > API key)")
    client = TautulliClient(conf.model_copy(update={"retries": 0, "timeout_seconds": min(conf.timeout_seconds, 15)}))
    try:
        info = client.call("get_tautulli_info")
    except Unreachable as exc:
        return Check("Tautulli", False, str(exc), "check TAUTULLI_URL and that Tautulli runs (from a container, use "
                                                  "its network name, e.g. http://tautulli:8181)")
    except MarqueeError as exc:
        return Check("Tautulli", False, str(exc), "check TAUTULLI_API_KEY (Tautulli > Settings > Web Interface)")
    version = info.get("tautulli_version", "?") if isinstance(info, dict) else "?"
    return Check("Tautulli", True, f"{conf.url}: key accepted, Tautulli {version}")


def plex(settings: "Settings") -> list[Check]:
    """Reachable, token valid, owned by the token's account, media deletion allowed when retention is on."""
    from pipeline.clients.plex import connect_account, connect_server, make_session

    conf = settings.plex
    if not conf.configured:
        return [Check("Plex", None, "not configured: no inventory, no user removal, no retention",
                      "run `invoke login` to sign in and pick your server", needed=False)]
    session = make_session(conf)
    try:
        server = connect_server(conf, session)
    except Unreachable as exc:
        return [Check("Plex", False, str(exc), "check PLEX_URL and that Plex runs, or run `invoke login` again")]
    except MarqueeError as exc:
        return [Check("Plex", False, str(exc), "run `invoke login` for a fresh token")]
    checks = [Check("Plex", True, f"{server.friendlyName} {server.version} at {conf.url}: token accepted")]
    try:
        account = connect_account(conf, session)
        owned = {r.clientIdentifier for r in account.resources() if r.owned}
    except MarqueeError as exc:
        checks.append(Check("Plex owner", False, f"cannot read the token's account on plex.tv: {exc}",
                            "run `invoke login` again"))
        owned, account = set(), None
    if account is not None:
        who = account.username or account.email
        if server.machineIdentifier in owned:
            checks.append(Check("Plex owner", True, f"{server.friendlyName} is owned by {who}"))
        else:
            checks.append(Check("Plex owner", False, f"{server.friendlyName} is not owned by {who}, whose token it is",
                                "run `invoke login` and sign in as the server's owner"))
    retention_on = settings.retention.file.is_file()
    allowed = bool(server.allowMediaDeletion)
    if allowed:
        checks.append(Check("Media deletion", True, "Plex allows media deletion"))
    else:
        checks.append(Check("Media deletion", False if retention_on else None,
                            "Plex does not allow media deletion" + ("" if retention_on else " (retention is off)"),
                            "Plex > Settings > Library > turn on 'Allow media deletion'", needed=retention_on))
    return checks


def plextv(settings: "Settings") -> Check:
    from pipeline.clients.plex_login import plextv_answers

    try:
        plextv_answers(settings.plex)
    except MarqueeError as exc:
        return Check("plex.tv", False, str(exc), "check this machine's internet access and DNS (plex.tv)",
                     needed=settings.plex.configured)
    return Check("plex.tv", True, f"{settings.plex.plextv_url} answers")


def email(settings: "Settings", store: "Store | None") -> list[Check]:
    backend = settings.email.backend
    if backend == "outbox":
        return [Check("E-mail", None, "email.backend = \"outbox\": mail is only written to files, never sent",
                      "set email.backend to ses or smtp (docs/settings.md) to send the newsletter", needed=False)]
    if backend == "smtp":
        return [_smtp(settings)]
    return _ses(settings, store)


def _smtp(settings: "Settings") -> Check:
    from pipeline.send.smtp import SmtpBackend

    smtp = SmtpBackend(settings)
    try:
        smtp.open()  # connects, STARTTLS or TLS, logs in: no mail is sent
    except MarqueeError as exc:
        return Check("SMTP", False, str(exc), "check smtp.host, smtp.port, smtp.security, smtp.username and "
                                              "SMTP_PASSWORD (an app password)")
    finally:
        smtp.close()
    who = f" as {settings.smtp.username}" if settings.smtp.username else ""
    return Check("SMTP", True, f"{smtp.where}: logged in{who} (no mail sent)")


def _ses(settings: "Settings", store: "Store | None") -> list[Check]:
    from pipeline.send.ses import SesBackend

    ses = SesBackend(settings)
    try:
        account = ses.check()
    except MarqueeError as exc:
        ses.close()
        return [Check("SES identity", False, str(exc), "verify email.from_address or its domain in the SES console "
                                                       "(Identities), in ses.region")]
    checks = [Check("SES identity", True, f"{ses.sender} may send through {ses.where}")]
    if account.get("ProductionAccessEnabled"):
        checks.append(Check("SES sandbox", True, "the account is out of the SES sandbox"))
    else:
        wanted = _recipients(settings, store)
        unverified = [a for a in wanted if not ses.verified(a)]
        if unverified:
            checks.append(Check("SES sandbox", False, f"the account is in the SES sandbox and {len(unverified)} of "
                                f"{len(wanted)} recipients are not verified (e.g. {unverified[0]})",
                                "request production access (SES console > Account dashboard), or verify each reader"))
        else:
            checks.append(Check("SES sandbox", True, f"the account is in the SES sandbox, but all {len(wanted)} "
                                "known recipients are verified"))
    quota = account.get("SendQuota") or {}
    limit, sent = quota.get("Max24HourSend", 0), quota.get("SentLast24Hours", 0)
    left = limit - sent if limit >= 0 else float("inf")
    detail = f"{sent:g} of {limit:g} sent in the last 24 h, {quota.get('MaxSendRate', 0):g}/s"
    if not account.get("SendingEnabled", True):
        checks.append(Check("SES quota", False, "sending is paused for this account",
                            "see the SES console's account dashboard (a bounce or complaint rate too high?)"))
    elif left < 1:
        checks.append(Check("SES quota", False, detail, "wait for the 24-hour window, or ask AWS for a higher quota"))
    else:
        checks.append(Check("SES quota", True, detail))
    ses.close()
    return checks


def _recipients(settings: "Settings", store: "Store | None") -> list[str]:
    found = [settings.email.admin_email, *settings.email.extra_recipients]
    if store is not None:
        from pipeline.send.recipients import digest_recipients

        found += [r.email for r in digest_recipients(store, settings)[0]]
    return sorted({a.strip().lower() for a in found if a and a.strip()})


def publish(settings: "Settings") -> Check:
    """Put and delete one probe object: the only proof the credentials may write."""
    conf = settings.publish
    if not conf.bucket:
        return Check("S3 publish", None, "publish.bucket is empty: `invoke publish` is off",
                     "set publish.bucket to publish the archive", needed=False)
    from pipeline.run.publish import _client

    key = f"{conf.prefix.strip('/') + '/' if conf.prefix.strip('/') else ''}.marquee-doctor-probe"
    try:
        s3 = _client(conf)
        s3.put_object(Bucket=conf.bucket, Key=key, Body=b"written by `invoke doctor`; safe to delete\n")
        s3.delete_object(Bucket=conf.bucket, Key=key)
    except Exception as exc:  # botocore's errors have no common base worth naming here
        text = " ".join(str(exc).split())[:200]
        return Check("S3 publish", False, f"cannot write s3://{conf.bucket}/{key}: {text}",
                     "check publish.bucket and publish.region, and that the AWS credentials may s3:PutObject there")
    return Check("S3 publish", True, f"s3://{conf.bucket}/{conf.prefix} is writable")


def discord(settings: "Settings") -> Check:
    from pipeline.clients.discord import DiscordWebhook

    url = settings.notify.discord_webhook_url.get_secret_value()
    if not url:
        return Check("Discord", None, "DISCORD_WEBHOOK_URL is not set: admin notices go by e-mail only",
                     "set DISCORD_WEBHOOK_URL for admin notices in Discord", needed=False)
    hook = DiscordWebhook(url, settings.notify.timeout_seconds)
    problem = hook.check()
    hook.close()
    if problem:
        return Check("Discord", False, problem, "copy the webhook URL again (channel > Integrations > Webhooks)")
    return Check("Discord", True, "the webhook exists (nothing posted)")


def arr(settings: "Settings") -> list[Check]:
    from pipeline.clients.arr import RadarrClient, SonarrClient

    checks = []
    for name, conf, cls in (("Sonarr", settings.sonarr, SonarrClient), ("Radarr", settings.radarr, RadarrClient)):
        if not conf.configured:
            checks.append(Check(name, None, f"not configured: deletions do not reach {name}",
                                f"set {name.upper()}_URL and {name.upper()}_API_KEY to unmonitor what is deleted",
                                needed=False))
            continue
        client = cls(conf)
        try:
            client.health()
        except MarqueeError as exc:
            checks.append(Check(name, False, str(exc), f"check {name.upper()}_URL and {name.upper()}_API_KEY "
                                                       f"({name} > Settings > General)"))
            continue
        finally:
            client.close()
        issues = f"; {len(client.warnings)} health error(s) in {name}" if client.warnings else ""
        checks.append(Check(name, True, f"{conf.url}: key accepted{issues}"))
    return checks
