"""`invoke doctor` against the sandboxes, moto (behind the SES proxy), aiosmtpd and the Discord receiver.

One set-up where every check passes, then each check broken once: that check, and only it, shows ✘, and the run
fails (a check of something not configured shows – and never fails it).
"""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import duckdb
import pytest
from tests.fixtures.discord import DiscordReceiver
from tests.fixtures.ses_proxy import SesProxy
from tests.fixtures.smtp_server import PASSWORD, USERNAME, Inbox, free_port, start_smtp

from pipeline.clock import FixedClock
from pipeline.ingest.run import run_ingest
from pipeline.run.doctor import DoctorFailed, doctor
from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store

SENDER, ADMIN, BUCKET = "news@example.org", "admin@example.net", "marquee-site"
NAMES = ["Config", "Tautulli", "Plex", "Plex owner", "Media deletion", "plex.tv", "Data folder", "Store",
         "Last ingest", "SES identity", "SES sandbox", "SES quota", "S3 publish", "Discord", "Sonarr", "Radarr"]


@pytest.fixture(scope="module")
def servers():
    world = generate(seed=3, users=12, plays=200)
    tautulli, pms = TautulliSandbox(world).start(), PlexSandbox(world).start()
    plextv = PlexTvSandbox(world, pms_url=pms.url).start()
    sonarr, radarr, hook = SonarrSandbox(world).start(), RadarrSandbox(world).start(), DiscordReceiver().start()
    yield world, tautulli, pms, plextv, sonarr, radarr, hook
    for server in (tautulli, pms, plextv, sonarr, radarr, hook):
        server.stop()


@pytest.fixture
def rig(servers, moto, tmp_path):
    """(environ, .env path, clock, servers): everything configured and healthy, a fresh ingest in the store."""
    world, tautulli, pms, plextv, sonarr, radarr, hook = servers
    sesv2 = boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1")
    sesv2.create_email_identity(EmailIdentity=SENDER)
    boto3.client("s3", endpoint_url=moto, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    (tmp_path / "retention.toml").write_text("")
    env_file = tmp_path / ".env"
    env_file.write_text(f"PLEX_TOKEN={world.owner_token}\n")
    env_file.chmod(0o600)
    with SesProxy(moto) as ses:
        environ = {
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "MARQUEE__PLEX__PLEXTV_URL": plextv.url, "MARQUEE_DATA_DIR": str(tmp_path / "data"),
            "MARQUEE__RETENTION__FILE": str(tmp_path / "retention.toml"),
            "MARQUEE__EMAIL__BACKEND": "ses", "MARQUEE__EMAIL__FROM_ADDRESS": SENDER,
            "MARQUEE__EMAIL__ADMIN_EMAIL": ADMIN, "MARQUEE__SES__ENDPOINT_URL": ses.url,
            "MARQUEE__PUBLISH__BUCKET": BUCKET, "MARQUEE__PUBLISH__ENDPOINT_URL": moto,
            "DISCORD_WEBHOOK_URL": hook.url, "SONARR_URL": sonarr.url, "SONARR_API_KEY": sonarr.api_key,
            "RADARR_URL": radarr.url, "RADARR_API_KEY": radarr.api_key,
        }
        clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
        settings = load_settings(None, environ=environ, dotenv_path=env_file)
        with open_store(settings) as store:
            run_ingest(store, settings, clock)
        yield environ, env_file, clock, ses, servers
    plextv.owns_servers, pms.allow_media_deletion = True, True


def run(rig) -> tuple[list[str], DoctorFailed | None]:
    environ, env_file, clock, *_ = rig
    lines: list[str] = []
    try:
        doctor(None, env_file, out=lines.append, clock=clock, environ=environ)
    except DoctorFailed as exc:
        return lines, exc
    return lines, None


def marks(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if line[:1] in "✔✘–":
            found[line[2:17].strip()] = line[0]
    return found


def test_a_healthy_setup_passes_every_check(rig):
    lines, failed = run(rig)
    assert failed is None, "\n".join(lines)
    assert marks(lines) == dict.fromkeys(NAMES, "✔")
    world = rig[4][0]
    assert not any(world.owner_token in line or world.tautulli_api_key in line for line in lines)
    assert "SES quota" in lines[11] and "120 of 50000 sent in the last 24 h, 14/s" in lines[11]


def only_failure(rig, name: str, fix: str) -> list[str]:
    lines, failed = run(rig)
    assert failed is not None and f"check(s) failed: {name}" in str(failed), "\n".join(lines)
    bad = {k for k, v in marks(lines).items() if v == "✘"}
    assert bad == {name}, "\n".join(lines)
    failing = next(i for i, line in enumerate(lines) if line.startswith(f"✘ {name} "))
    assert lines[failing + 1].strip().startswith("→") and fix in lines[failing + 1]
    return lines


def test_config_that_does_not_parse(rig):
    rig[0]["MARQUEE__USERS__WARN_DAYS"] = "40"
    lines, failed = run(rig)
    assert failed is not None and lines[0].startswith("✘ Config") and "warn_days (40) must be less" in lines[0]
    assert len(lines) == 2 and "docs/settings.md" in lines[1]


def test_env_file_readable_by_others(rig):
    rig[1].chmod(0o644)
    only_failure(rig, "Config", "chmod 600")


def test_tautulli_key_rejected(rig):
    rig[0]["TAUTULLI_API_KEY"] = "0" * 32
    lines = only_failure(rig, "Tautulli", "check TAUTULLI_API_KEY")
    assert "Invalid apikey" in "\n".join(lines)


def test_tautulli_unreachable(rig):
    rig[0]["TAUTULLI_URL"] = f"http://127.0.0.1:{free_port()}"
    only_failure(rig, "Tautulli", "check TAUTULLI_URL")


def test_plex_token_rejected(rig):
    rig[1].write_text("PLEX_TOKEN=not-the-token\n")
    lines, failed = run(rig)
    assert failed is not None and marks(lines)["Plex"] == "✘" and "rejected the token (401)" in "\n".join(lines)
    assert "not-the-token" not in "\n".join(lines)


def test_server_not_owned_by_the_token_account(rig):
    rig[4][3].owns_servers = False
    only_failure(rig, "Plex owner", "sign in as the server's owner")


def test_media_deletion_off_while_retention_is_on(rig):
    rig[4][2].allow_media_deletion = False
    only_failure(rig, "Media deletion", "Allow media deletion")
    Path(rig[0]["MARQUEE__RETENTION__FILE"]).unlink()  # retention off: the same Plex is fine
    lines, failed = run(rig)
    assert failed is None and marks(lines)["Media deletion"] == "–"


def test_plextv_unreachable(rig):
    rig[0]["MARQUEE__PLEX__PLEXTV_URL"] = f"http://127.0.0.1:{free_port()}"
    lines, failed = run(rig)
    assert failed is not None and marks(lines)["plex.tv"] == "✘" and marks(lines)["Plex owner"] == "✘"


def test_ses_sender_not_verified(rig, moto):
    boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").delete_email_identity(EmailIdentity=SENDER)
    only_failure(rig, "SES identity", "verify email.from_address")


def test_ses_sandbox_with_an_unverified_recipient(rig, moto):
    rig[3].account = {**rig[3].account, "ProductionAccessEnabled": False}
    lines = only_failure(rig, "SES sandbox", "request production access")
    assert "in the SES sandbox and" in "\n".join(lines)
    for address in [ADMIN] + [u.email for u in rig[4][0].users if u.email]:
        boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1").create_email_identity(EmailIdentity=address)
    lines, failed = run(rig)
    assert failed is None and "all" in next(line for line in lines if "SES sandbox" in line)


def test_ses_quota_used_up(rig):
    rig[3].account = {**rig[3].account, "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0,
                                                      "SentLast24Hours": 200.0}}
    only_failure(rig, "SES quota", "higher quota")


def test_smtp_login_refused_then_accepted(rig):
    inbox = Inbox()
    controller = start_smtp(inbox, auth=True)
    try:
        rig[0].update({"MARQUEE__EMAIL__BACKEND": "smtp", "MARQUEE__SMTP__HOST": "127.0.0.1",
                       "MARQUEE__SMTP__PORT": str(controller.port), "MARQUEE__SMTP__SECURITY": "none",
                       "MARQUEE__SMTP__USERNAME": USERNAME, "SMTP_PASSWORD": "wrong"})
        lines = only_failure(rig, "SMTP", "SMTP_PASSWORD")
        rig[0]["SMTP_PASSWORD"] = PASSWORD
        lines, failed = run(rig)
        assert failed is None and marks(lines)["SMTP"] == "✔" and inbox.logins == [USERNAME]
        assert inbox.received == []  # a login, no mail
    finally:
        controller.stop()


def test_bucket_not_writable(rig):
    rig[0]["MARQUEE__PUBLISH__BUCKET"] = "no-such-bucket"
    only_failure(rig, "S3 publish", "s3:PutObject")


def test_discord_webhook_gone(rig):
    rig[0]["DISCORD_WEBHOOK_URL"] = rig[0]["DISCORD_WEBHOOK_URL"][:-4] + "XXXX"
    lines = only_failure(rig, "Discord", "copy the webhook URL again")
    assert "XXXX" not in "\n".join(lines)


def test_sonarr_key_rejected(rig):
    rig[0]["SONARR_API_KEY"] = "f" * 32
    only_failure(rig, "Sonarr", "SONARR_API_KEY")


def test_data_folder_readable_by_others(rig):
    Path(rig[0]["MARQUEE_DATA_DIR"]).chmod(0o755)
    only_failure(rig, "Data folder", "chmod 700")


def test_store_newer_than_this_code(rig):
    db = Path(rig[0]["MARQUEE_DATA_DIR"]) / "marquee.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO schema_version (version, name) VALUES (999, '999_future.sql')")
    only_failure(rig, "Store", "update Marquee")


def test_last_ingest_too_old(rig):
    rig[2].advance(hours=25)
    only_failure(rig, "Last ingest", "run `invoke ingest`")


def test_unconfigured_features_are_skipped_not_failed(rig):
    for name in ("MARQUEE__PUBLISH__BUCKET", "DISCORD_WEBHOOK_URL", "SONARR_URL", "RADARR_URL"):
        del rig[0][name]
    rig[0]["MARQUEE__EMAIL__BACKEND"] = "outbox"
    lines, failed = run(rig)
    assert failed is None
    assert {k: v for k, v in marks(lines).items() if v == "–"} == dict.fromkeys(
        ["E-mail", "S3 publish", "Discord", "Sonarr", "Radarr"], "–")
    assert stat.S_IMODE(Path(rig[0]["MARQUEE_DATA_DIR"]).stat().st_mode) == 0o700  # doctor changed nothing
