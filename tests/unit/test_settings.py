"""Settings: precedence, one-line validation errors, secrets never shown."""

import logging

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Settings, load_settings

KEY = "0123456789abcdef0123456789abcdef"


def load(tmp_path, toml: str | None = None, env: dict | None = None, dotenv: str | None = None, **kw):
    cfg = None
    if toml is not None:
        cfg = tmp_path / "marquee.toml"
        cfg.write_text(toml)
    dot = None
    if dotenv is not None:
        dot = tmp_path / ".env"
        dot.write_text(dotenv)
    return load_settings(cfg, environ=env or {}, dotenv_path=dot, **kw)


def test_defaults_need_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load(tmp_path)
    assert s == Settings()
    assert s.data.db_path.as_posix() == "data/marquee.duckdb"
    assert not s.tautulli.configured and not s.plex.configured


def test_environment_alone_configures_everything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load(tmp_path, env={"TAUTULLI_URL": "http://tautulli:8181/", "TAUTULLI_API_KEY": KEY,
                            "PLEX_URL": "https://plex.lan:32400", "PLEX_TOKEN": "tok-123456",
                            "MARQUEE_DATA_DIR": "/var/lib/marquee", "MARQUEE__SERVER__TIMEZONE": "Europe/Paris"})
    assert s.tautulli.url == "http://tautulli:8181"
    assert s.tautulli.api_key.get_secret_value() == KEY
    assert s.plex.configured and s.data.dir.as_posix() == "/var/lib/marquee"
    assert s.server.timezone == "Europe/Paris"


def test_precedence_defaults_file_dotenv_environment(tmp_path):
    toml = '[tautulli]\nurl = "http://from-file:8181"\npage_size = 5000\n[server]\nname = "Den"\n'
    s = load(tmp_path, toml, env={"TAUTULLI_URL": "http://from-env:8181"},
             dotenv=f"TAUTULLI_URL=http://from-dotenv:8181\nTAUTULLI_API_KEY={KEY}\n")
    assert s.tautulli.url == "http://from-env:8181"        # environment beats .env beats file
    assert s.tautulli.api_key.get_secret_value() == KEY    # .env supplies what the environment lacks
    assert s.tautulli.page_size == 5000 and s.server.name == "Den"


def test_marquee_config_variable_points_at_the_file(tmp_path):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('[server]\nname = "Elsewhere"\n')
    assert load_settings(environ={"MARQUEE_CONFIG": str(cfg)}, dotenv_path=None).server.name == "Elsewhere"


@pytest.mark.parametrize("toml, env, message", [
    ("", {"TAUTULLI_API_KEY": "short"}, "tautulli.api_key: must be 32 letters or digits (got 5 characters)"),
    ("", {"TAUTULLI_URL": "tautulli:8181"}, "tautulli.url: not an http(s) URL: 'tautulli:8181'"),
    ("", {"PLEX_URL": "ftp://plex"}, "plex.url: not an http(s) URL: 'ftp://plex'"),
    ('[server]\ntimezone = "Mars/Olympus"\n', {}, "server.timezone: unknown time zone 'Mars/Olympus'"),
    ('[tautulli]\npage_size = 10\n', {}, "tautulli.page_size: Input should be greater than or equal to 100"),
    ('[tautuli]\nurl = "http://x"\n', {}, "tautuli: unknown setting"),
    ('[server]\nnme = "x"\n', {}, "server.nme: unknown setting"),
    ("[server\n", {}, "not valid TOML"),
    (f'[tautulli]\napi_key = "{KEY}"\n', {}, "tautulli.api_key: secrets are not read from marquee.toml; set TAUTULLI_API_KEY"),
    ("", {"MARQUEE__DATA__LOCK_WAIT_SECONDS": "soon"}, "data.lock_wait_seconds: Input should be a valid number"),
])
def test_bad_config_names_the_key_in_one_line(tmp_path, toml, env, message):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, toml, env=env)
    text = str(err.value)
    assert message in text
    assert "\n" not in text
    assert KEY not in text


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={}, dotenv_path=None)


def test_secrets_never_in_repr_or_logs(tmp_path, caplog):
    s = load(tmp_path, env={"TAUTULLI_API_KEY": KEY, "PLEX_TOKEN": "plex-token-xyz"})
    assert KEY not in repr(s) and KEY not in str(s) and "plex-token-xyz" not in repr(s)
    assert KEY not in s.model_dump_json()
    with caplog.at_level(logging.INFO):
        logging.getLogger("marquee.test").info("settings: %r", s)
    assert KEY not in caplog.text
    assert sorted(s.secrets()) == sorted([KEY, "plex-token-xyz"])
