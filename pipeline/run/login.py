"""`invoke login`: sign in at plex.tv/link with a PIN, pick the server, and save PLEX_TOKEN and PLEX_URL to .env."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Callable, TextIO

from pydantic import SecretStr

from pipeline.clients.plex import connect_server
from pipeline.clients.plex_login import LINK, OwnedServer, PinSignIn, owned_servers
from pipeline.errors import ConfigError, MarqueeError, SourceError
from pipeline.settings import Settings

POLL_SECONDS = 2.0
WAIT_SECONDS = 900.0  # as long as plex.tv keeps a code


class LoginCancelled(MarqueeError):
    """The admin pressed Ctrl-C while waiting for the code to be linked."""

    exit_code = 130


def login(settings: Settings, env_path: Path, *, server: str | None = None,
          ask: Callable[[str], str] | None = None, out: Callable[[str], None] = print,
          progress: TextIO | None = None, poll_seconds: float = POLL_SECONDS,
          wait_seconds: float = WAIT_SECONDS) -> OwnedServer:
    """Run the PIN flow and write the token and URL to env_path; nothing is written unless it all worked.

    ask: prompts for a choice among several servers (None: --server is required then);
    progress: where the waiting line goes (None: nowhere).
    """
    try:
        signin = PinSignIn(settings.plex)
        code = signin.code()
        out(f"Open {LINK} , sign in as the Plex server's owner, and enter the code:  {code}")
        token = _wait(signin, progress, poll_seconds, wait_seconds)
        username, servers = owned_servers(settings.plex, token)
        if not servers:
            raise MarqueeError(f"signed in as {username}, but that account owns no Plex Media Server; run `invoke "
                               "login` again and sign in with the server owner's account (nothing was written)")
        out(f"Signed in as {username}. Servers this account owns:")
        for n, s in enumerate(servers, 1):
            out(f"  {n}. {s.name}  {s.urls[0] if s.urls else '(no address plex.tv knows of)'}")
        chosen = _choose(servers, server, ask)
    except KeyboardInterrupt:
        if progress is not None:
            progress.write("\n")
        raise LoginCancelled("login cancelled; nothing was written") from None
    if not chosen.urls:
        raise MarqueeError(f"plex.tv knows no address for {chosen.name!r} (is it running?); start it and run "
                           "`invoke login` again, or set PLEX_URL and PLEX_TOKEN in .env by hand (nothing was written)")
    url = chosen.urls[0]
    try:
        connect_server(settings.plex.model_copy(update={"url": url, "token": SecretStr(token)}))
        reached = f"reached {chosen.name} at {url}"
    except SourceError as exc:
        reached = (f"could not reach {url} from here ({exc}); if Marquee reaches Plex by another address, "
                   "change PLEX_URL in .env")
    write_env(env_path, {"PLEX_TOKEN": token, "PLEX_URL": url})
    out(f"Saved PLEX_TOKEN and PLEX_URL={url} to {env_path} (mode 0600); {reached}.")
    out("Next: `invoke doctor` checks the rest of the set-up.")
    return chosen


def _wait(signin: PinSignIn, progress: TextIO | None, poll_seconds: float, wait_seconds: float) -> str:
    started = time.monotonic()
    while True:
        token = signin.poll()
        if token:
            if progress is not None:
                progress.write("\n")
            return token
        waited = time.monotonic() - started
        if waited > wait_seconds:
            raise MarqueeError(f"nobody entered the code within {wait_seconds / 60:g} minutes; run "
                               "`invoke login` again (nothing was written)")
        if progress is not None:
            progress.write(f"\rWaiting for the code to be entered at {LINK} ... {int(waited) // 60}:"
                           f"{int(waited) % 60:02d}  (Ctrl-C cancels)")
            progress.flush()
        time.sleep(poll_seconds)


def _choose(servers: list[OwnedServer], name: str | None, ask: Callable[[str], str] | None) -> OwnedServer:
    if name is not None:
        found = [s for s in servers if s.name.casefold() == name.strip().casefold()]
        if not found:
            raise ConfigError(f"--server {name!r}: this account owns no server of that name; it owns "
                              f"{_names(servers)} (nothing was written)")
        return found[0]
    if len(servers) == 1:
        return servers[0]
    if ask is None:
        raise ConfigError(f"this account owns {len(servers)} servers ({_names(servers)}); run `invoke login "
                          "--server NAME` to pick one (nothing was written)")
    while True:
        answer = ask(f"Which server? [1-{len(servers)}] ").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(servers):
            return servers[int(answer) - 1]
        named = [s for s in servers if s.name.casefold() == answer.casefold()]
        if named:
            return named[0]


def _names(servers: list[OwnedServer]) -> str:
    return ", ".join(repr(s.name) for s in servers)


def write_env(path: Path, values: dict[str, str]) -> None:
    """Set these KEY=value lines in a .env file (mode 0600), keeping every other line as it was."""
    lines = path.read_text().splitlines() if path.is_file() else []
    pending = dict(values)
    out = []
    for line in lines:
        match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        key = match.group(1) if match else None
        if key in values:
            if key in pending:
                out.append(f"{key}={_quoted(pending.pop(key))}")
            continue  # a later duplicate would win when .env is read: drop it
        out.append(line)
    out += [f"{key}={_quoted(value)}" for key, value in pending.items()]
    tmp = path.with_name(f".{path.name}.marquee-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(out) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a leftover file
    os.replace(tmp, path)


def _quoted(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@+%?&=~-]*", value):
        return value
    if "'" in value:  # no value plex.tv or Plex hands out looks like this
        raise ConfigError("plex.tv sent a value with a ' quote in it, which .env cannot hold; set it by hand")
    return f"'{value}'"  # single quotes: python-dotenv reads the text literally


def ask_on_terminal() -> Callable[[str], str] | None:
    """input() when a person is at the terminal, else None (then --server is needed)."""
    return input if sys.stdin.isatty() else None
