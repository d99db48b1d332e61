"""One settings object: defaults, then marquee.toml, then .env, then the environment.

Nothing here runs at import time; `load_settings()` is called once and the
result is passed explicitly to every stage.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError
from pipeline.text import clean_text

# Secrets are only read from the environment or .env, never from marquee.toml.
SECRET_ENV = {
    "TAUTULLI_API_KEY": ("tautulli", "api_key"),
    "PLEX_TOKEN": ("plex", "token"),
    "SMTP_PASSWORD": ("smtp", "password"),
    "SONARR_API_KEY": ("sonarr", "api_key"),
    "RADARR_API_KEY": ("radarr", "api_key"),
    "SEERR_API_KEY": ("seerr", "api_key"),
    "DISCORD_WEBHOOK_URL": ("notify", "discord_webhook_url"),
    "MARQUEE_SECRET_KEY": ("web", "secret_key"),
}
PLAIN_ENV = {
    "TAUTULLI_URL": ("tautulli", "url"),
    "PLEX_URL": ("plex", "url"),
    "SONARR_URL": ("sonarr", "url"),
    "RADARR_URL": ("radarr", "url"),
    "SEERR_URL": ("seerr", "url"),
    "MARQUEE_DATA_DIR": ("data", "dir"),
}
ENV_PREFIX = "MARQUEE__"  # MARQUEE__SECTION__KEY=value sets any other setting


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _check_url(value: str) -> str:
    if value == "":
        return value
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value.rstrip("/")


class ServerSettings(Section):
    name: str = "Plex"  # shown on the site and in e-mails
    timezone: str = "UTC"  # IANA zone the server lives in; periods are cut in it

    # Text that reaches the site, the feeds and e-mail loses control characters, as ingested titles do.
    _text = field_validator("name")(classmethod(lambda cls, v: clean_text(v)))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Paris)")
        return value


class TautulliSettings(Section):
    url: str = ""  # e.g. http://tautulli:8181 (env TAUTULLI_URL)
    api_key: SecretStr = SecretStr("")  # 32 characters (env TAUTULLI_API_KEY only)
    page_size: int = Field(10_000, ge=100, le=200_000)  # history rows per date window; Tautulli keeps ~10x this in memory
    timeout_seconds: float = Field(60.0, gt=0, le=600)  # per request
    retries: int = Field(4, ge=0, le=10)  # on connection errors and 5xx, with backoff
    overlap_hours: int = Field(48, ge=1, le=24 * 30)  # re-read this much before the newest stored play
    # From this history size, a run reads the overlap by reference id (indexed) instead of dates (a full scan)
    overlap_by_reference_from: int = Field(100_000, ge=0)

    _url = field_validator("url")(classmethod(lambda cls, v: _check_url(v)))

    @field_validator("api_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw and (len(raw) != 32 or not raw.isalnum()):
            raise ValueError(f"must be 32 letters or digits (got {len(raw)} characters)")
        return value

    @property
    def configured(self) -> bool:
        return bool(self.url and self.api_key.get_secret_value())


class PlexSettings(Section):
    url: str = ""  # e.g. http://plex:32400 (env PLEX_URL); empty skips the inventory
    token: SecretStr = SecretStr("")  # X-Plex-Token of the owner (env PLEX_TOKEN only)
    plextv_url: str = "https://plex.tv"  # only the sandbox and tests change this
    verify_tls: bool = True  # set false for a self-signed PMS certificate
    timeout_seconds: float = Field(30.0, gt=0, le=600)  # per request
    page_size: int = Field(500, ge=50, le=5000)  # library items per request

    _urls = field_validator("url", "plextv_url")(classmethod(lambda cls, v: _check_url(v)))

    @property
    def configured(self) -> bool:
        return bool(self.url and self.token.get_secret_value())


class DataSettings(Section):
    dir: Path = Path("data")  # where marquee.duckdb lives (env MARQUEE_DATA_DIR)
    lock_wait_seconds: float = Field(30.0, ge=0, le=3600)  # how long an overlapping run waits

    @property
    def db_path(self) -> Path:
        return self.dir / "marquee.duckdb"


class NewsletterSettings(Section):
    period: Literal["weekly", "monthly"] = "weekly"  # one issue per ISO week or per calendar month
    skip_empty: bool = False  # true: no issue at all for a period with no plays and nothing added
    backfill: int = Field(8, ge=0, le=520)  # past periods to build when the store has no issue yet
    top_n: int = Field(10, ge=3, le=50)  # length of the top lists
    yearly: bool = True  # the first build after a year ends freezes "<year> in review", sent once as its own e-mail
    coming_soon_days: int = Field(14, ge=0, le=90)  # "Coming soon" from the Sonarr/Radarr calendars, this far ahead; 0: off


class SiteSettings(Section):
    title: str = ""  # the archive's title; empty uses "<server.name> newsletter"
    siteurl: str = ""  # public URL of the archive, e.g. https://news.example.org; empty for relative links
    names: Literal["friendly", "initials", "hidden"] = "initials"  # how viewers are named in public
    exclude_users: list[str] = []  # usernames, e-mails or ids never shown in any public list
    public_libraries: list[str] = ["*"]  # Plex library titles whose titles the site may show; "*": every one
    posters: bool = True  # fetch posters from Plex at build time (cached)
    plex_links: bool = True  # titles link to app.plex.tv (shows the server's machine id and item keys)
    output_dir: Path = Path("output")  # where the built site goes

    _url = field_validator("siteurl")(classmethod(lambda cls, v: _check_url(v)))
    _text = field_validator("title")(classmethod(lambda cls, v: clean_text(v)))


class PublishSettings(Section):
    bucket: str = ""  # S3 bucket the site is uploaded to
    prefix: str = ""  # key prefix inside the bucket
    region: str = "us-east-1"  # AWS region of the bucket
    endpoint_url: str = ""  # S3-compatible endpoint (MinIO, R2, tests); empty for AWS
    cache_seconds: int = Field(300, ge=0)  # Cache-Control max-age for HTML and feeds; assets get a year

    _url = field_validator("endpoint_url")(classmethod(lambda cls, v: _check_url(v)))


class EmailSettings(Section):
    backend: Literal["outbox", "ses", "smtp"] = "outbox"  # ses / smtp deliver; outbox delivers nothing (dry runs only)
    from_address: str = ""  # e.g. newsletter@example.org (must be verified in SES)
    from_name: str = ""  # empty uses server.name
    reply_to: str = ""  # where replies go; empty: none
    admin_email: str = ""  # gets admin reports and notices; never warned or removed
    extra_recipients: list[str] = []  # addresses that get the digest without being Plex users
    images: Literal["auto", "inline", "hosted"] = "auto"  # auto: hosted when site.siteurl is set
    unsubscribe_url: str = ""  # an HTTPS endpoint you host for one-click unsubscribe (RFC 8058)
    max_html_kb: int = Field(100, ge=20, le=500)  # trim digests above this (Gmail clips at 102 KB)
    outbox_dir: Path | None = None  # where dry runs write .eml files; None: <data.dir>/outbox
    max_throttled_seconds: float = Field(300, gt=0)  # stop a send run after this long of nothing but throttling

    _url = field_validator("unsubscribe_url")(classmethod(lambda cls, v: _check_url(v)))
    _text = field_validator("from_name")(classmethod(lambda cls, v: clean_text(v)))

    @field_validator("admin_email")
    @classmethod
    def _admin(cls, value: str) -> str:
        if value.strip() and "@" not in value:
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class SesSettings(Section):
    region: str = "us-east-1"  # AWS region of the SES account
    endpoint_url: str = ""  # only tests change this
    configuration_set: str = ""  # SES configuration set for event publishing; empty: none
    contact_list: str = ""  # SESv2 contact list: SES then manages unsubscribes
    topic: str = ""  # topic in that contact list
    max_send_rate: float = Field(0, ge=0)  # messages per second; 0 uses the account's MaxSendRate
    concurrency: int = Field(4, ge=1, le=32)  # parallel API calls

    _url = field_validator("endpoint_url")(classmethod(lambda cls, v: _check_url(v)))


class SmtpSettings(Section):
    host: str = ""  # e.g. smtp.gmail.com
    port: int = Field(587, ge=1, le=65535)  # 587 with STARTTLS, 465 with implicit TLS
    username: str = ""  # login, often the full address
    password: SecretStr = SecretStr("")  # app password (env SMTP_PASSWORD only)
    security: Literal["starttls", "tls", "none"] = "starttls"  # "none" only for a relay on localhost
    timeout_seconds: float = Field(30.0, gt=0, le=600)  # per connection and command


class UsersSettings(Section):
    """The lifecycle policy's thresholds: their only defaults and checks (policy.users.UserPolicy.from_settings)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    welcome_window_days: float = Field(7, ge=0)  # welcome users who joined this recently and were never welcomed
    grace_hours: float = Field(24, ge=0)  # never counted as inactive this soon after joining
    min_play_seconds: int = Field(120, ge=0)  # a play counts toward activity if it lasted this long
    warn_days: float = Field(27, gt=0)  # idle this long: a warning e-mail with the exact removal date
    kick_days: float = Field(30, gt=0)  # idle this long, and warned kick_days - warn_days earlier: removal
    vip: list[str] = []  # usernames, e-mail addresses or user ids that are never warned or removed
    include_home_users: bool = False  # apply the policy to home and managed users too
    max_removals_per_run: int = Field(5, ge=0)  # refuse a run that would remove more
    max_removal_share: float = Field(0.2, gt=0, le=1)  # refuse a run that would remove more than this share
    max_data_age_hours: float = Field(24, gt=0)  # refuse to warn or remove when the last ingest is older
    quiet_days: float = Field(3, gt=0)  # no plays server-wide this long: Tautulli was probably down; refuse
    max_removal_attempts: int = Field(3, gt=0)  # a failed unshare is retried on later runs this many times
    remove_friend: bool = False  # true: end the whole friendship (every server of the owner), not just this share
    delete_tautulli_history: bool = False  # true: also delete a removed user's history in Tautulli (ours is kept)
    reader_can_extend_days: float = Field(0, ge=0, le=365)  # "Still here" on a warning postpones removal once; 0: off

    @model_validator(mode="after")
    def _order(self) -> "UsersSettings":
        if self.warn_days >= self.kick_days:
            raise ValueError(f"warn_days ({self.warn_days:g}) must be less than kick_days ({self.kick_days:g}), "
                             "so a warning comes before the removal")
        if self.grace_hours / 24 >= self.warn_days:
            raise ValueError(f"grace_hours ({self.grace_hours:g}) must be shorter than warn_days "
                             f"({self.warn_days:g} days)")
        return self


class NotifySettings(Section):
    discord_webhook_url: SecretStr = SecretStr("")  # admin notices to Discord (env DISCORD_WEBHOOK_URL only)
    timeout_seconds: float = Field(10.0, gt=0, le=120)  # per webhook request

    @field_validator("discord_webhook_url")
    @classmethod
    def _hook(cls, value: SecretStr) -> SecretStr:
        _check_url(value.get_secret_value())
        return value


class ArrSettings(Section):
    url: str = ""  # e.g. http://sonarr:8989 (env SONARR_URL / RADARR_URL); empty: no cascade
    api_key: SecretStr = SecretStr("")  # env SONARR_API_KEY / RADARR_API_KEY only
    timeout_seconds: float = Field(30.0, gt=0, le=600)  # per request

    _url = field_validator("url")(classmethod(lambda cls, v: _check_url(v)))

    @property
    def configured(self) -> bool:
        return bool(self.url and self.api_key.get_secret_value())


class SeerrSettings(Section):
    url: str = ""  # Overseerr or Jellyseerr, e.g. http://seerr:5055 (env SEERR_URL); empty: no requests, no cascade
    api_key: SecretStr = SecretStr("")  # Settings > General > API Key (env SEERR_API_KEY only)
    timeout_seconds: float = Field(30.0, gt=0, le=600)  # per request

    _url = field_validator("url")(classmethod(lambda cls, v: _check_url(v)))

    @property
    def configured(self) -> bool:
        return bool(self.url and self.api_key.get_secret_value())


class RetentionSettings(Section):
    """Retention's delay and caps: their only defaults and checks (policy.media.MediaPolicy.from_settings)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    file: Path = Path("retention.toml")  # assignments and rules, kept under version control
    deletion_delay_hours: float = Field(24, ge=0)  # after the last assigned viewer finished (or a rule matched)
    max_deletions_per_run: int = Field(20, ge=0)  # at most this many movies and episodes per run
    max_bytes_per_run: int = Field(500 * 10**9, ge=0)  # at most this many bytes freed per run
    label_prefix: str = "marquee:"  # a Plex label "marquee:alice" assigns the item to alice; empty: off
    arr_delete_files: bool = True  # delete the file through Sonarr/Radarr before Plex deletes the item
    import_exclusion: bool = False  # movies: add a Radarr import exclusion so lists never re-add them
    leaving_soon_collection: str = ""  # keep a Plex collection of this name in sync; empty: off
    notice_days: float = Field(3, ge=0)  # nothing is deleted before every reader it concerns was told this long ago
    notice_recent_days: float = Field(30, ge=0)  # rule-based: who played it this recently (or part-watched) is told
    reader_keeps: Literal["off", "on"] = "on"  # readers may keep a leaving title from the e-mail (needs web.public_url)
    reader_keeps_per_month: int = Field(3, ge=1, le=100)  # keeps one reader may ask for per calendar month
    assign_requesters: bool = False  # a Seerr request assigns its title (movie, season or show) to the requester
    # where an assignee's watch is read: Tautulli's plays and/or their own watch state in Plex (viewCount)
    watch_sources: list[Literal["tautulli", "plex"]] = ["tautulli", "plex"]

    @field_validator("watch_sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('must name at least one of "tautulli" and "plex" (nothing would ever count as watched)')
        return list(dict.fromkeys(value))
    series_exclusion: bool = False  # a whole series deleted: unmonitor it in Sonarr and add a Sonarr import exclusion

    @field_validator("deletion_delay_hours", "max_deletions_per_run", "max_bytes_per_run", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic would read true as 1: a cap of one deletion nobody meant
            raise ValueError(f"must be a number, not {str(value).lower()}")
        return value


class DaemonSettings(Section):
    new_users_minutes: float = Field(5, gt=0)  # how often `invoke daemon` welcomes new users
    inactivity_minutes: float = Field(30, gt=0)  # how often it runs the whole policy (warn, remove, media)
    health_bind: str = "127.0.0.1"  # the health endpoint listens here
    health_port: int = Field(8787, ge=0, le=65535)  # GET /health; 0 picks a free port
    ingest: bool = True  # ingest before each run, so the guards see fresh data


class WebSettings(Section):
    bind: str = "127.0.0.1"  # the reader-actions web app listens here; put a reverse proxy in front
    port: int = Field(8788, ge=0, le=65535)  # its port; 0 picks a free one
    public_url: str = ""  # HTTPS URL the proxy serves it at; empty: e-mails carry no action links
    secret_key: SecretStr = SecretStr("")  # signs action links (env MARQUEE_SECRET_KEY only); empty: one in data.dir
    link_days: int = Field(60, ge=1, le=400)  # an action link in an e-mail works this many days
    inbox_fsync: bool = True  # fsync each inbox commit before answering; false: survives a killed app, not power loss
    per_ip_per_minute: int = Field(30, ge=1)  # requests one client address may make a minute (kept in memory only)
    per_link_per_minute: int = Field(10, ge=1)  # requests one action link may get a minute
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]  # whose X-Forwarded-For names the client

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must start with https:// (RFC 8058 one-click needs HTTPS), or be empty")
        return value.rstrip("/")


class Settings(Section):
    server: ServerSettings = ServerSettings()
    tautulli: TautulliSettings = TautulliSettings()
    plex: PlexSettings = PlexSettings()
    data: DataSettings = DataSettings()
    newsletter: NewsletterSettings = NewsletterSettings()
    site: SiteSettings = SiteSettings()
    publish: PublishSettings = PublishSettings()
    email: EmailSettings = EmailSettings()
    ses: SesSettings = SesSettings()
    smtp: SmtpSettings = SmtpSettings()
    users: UsersSettings = UsersSettings()
    notify: NotifySettings = NotifySettings()
    sonarr: ArrSettings = ArrSettings()
    radarr: ArrSettings = ArrSettings()
    seerr: SeerrSettings = SeerrSettings()
    retention: RetentionSettings = RetentionSettings()
    daemon: DaemonSettings = DaemonSettings()
    web: WebSettings = WebSettings()

    @model_validator(mode="after")
    def _outbox(self) -> "Settings":
        # Readers' addresses and e-mails must never be served or published with the site.
        if self.email.outbox_dir is None:
            self.email.outbox_dir = self.data.dir / "outbox"
        outbox, site = self.email.outbox_dir.resolve(), self.site.output_dir.resolve()
        if outbox == site or site in outbox.parents:
            raise ValueError(f"email.outbox_dir ({self.email.outbox_dir}) is inside site.output_dir "
                             f"({self.site.output_dir}), where `invoke serve` and `invoke publish` would expose "
                             "readers' e-mails; use a folder outside it, e.g. data/outbox")
        return self

    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        found = [self.tautulli.api_key.get_secret_value(), self.plex.token.get_secret_value(),
                 self.smtp.password.get_secret_value(), self.sonarr.api_key.get_secret_value(),
                 self.radarr.api_key.get_secret_value(), self.seerr.api_key.get_secret_value(),
                 self.notify.discord_webhook_url.get_secret_value()]
        return [s for s in found if s]


def _set(tree: dict, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
        if not isinstance(tree, dict):
            raise ConfigError(f"{'.'.join(path[:-1])}: expected a table")
    tree[path[-1]] = value


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a syntax or read error is one ConfigError line naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> ConfigError:
    return ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1} is {exc.object[exc.start]:#04x}); "
                       "save it as UTF-8")


def _read_toml(path: Path) -> dict:
    data = read_toml(path)
    for section, key in SECRET_ENV.values():
        if key in data.get(section, {}):
            env = next(k for k, v in SECRET_ENV.items() if v == (section, key))
            raise ConfigError(f"{section}.{key}: secrets are not read from {path.name}; set {env} in the environment or .env")
    return data


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown setting (docs/settings.md lists them all)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{more}" if where else f"{msg}{more}"  # a check across sections names its keys


def load_settings(
    config_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = ".env",
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings; raise ConfigError naming the bad key in one line."""
    env = dict(os.environ if environ is None else environ)
    if dotenv_path and Path(dotenv_path).is_file():
        try:
            dotenv = dotenv_values(dotenv_path)
        except UnicodeDecodeError as exc:
            raise _not_utf8(Path(dotenv_path), exc) from None
        env = {**{k: v for k, v in dotenv.items() if v is not None}, **env}

    explicit = config_path or env.get("MARQUEE_CONFIG")
    path = Path(explicit or "marquee.toml")
    if explicit and not path.is_file():
        raise ConfigError(f"config file {path} does not exist (from {'--config' if config_path else 'MARQUEE_CONFIG'})")
    tree: dict = _read_toml(path) if path.is_file() else {}

    for name, where in {**PLAIN_ENV, **SECRET_ENV}.items():
        if env.get(name):
            _set(tree, where, env[name])
    for name, value in env.items():
        if name.startswith(ENV_PREFIX):
            parts = tuple(p.lower() for p in name[len(ENV_PREFIX):].split("__"))
            _set(tree, parts, value)
    for dotted, value in (overrides or {}).items():
        _set(tree, tuple(dotted.split(".")), value)

    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
