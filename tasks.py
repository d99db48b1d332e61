"""Marquee's admin tasks. Thin: each parses its flags and calls a plain function in pipeline.run.commands."""

import sys
from pathlib import Path

from invoke import Exit, task

CONFIG_HELP = "path to marquee.toml (default: ./marquee.toml, or $MARQUEE_CONFIG)"
VERBOSE_HELP = "debug logging"


def _run(fn, *args, **kwargs):
    from pipeline.run.commands import guarded

    code = guarded(fn, *args, **kwargs)
    if code:
        raise Exit(code=code)


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP})
def ingest(c, config=None, verbose=False):
    """Copy Tautulli history and the Plex inventory into data/marquee.duckdb (incremental)."""
    from pipeline.run import commands
    _run(lambda: commands.ingest(commands.settings_for(config, verbose)))


@task(help={"verbose": VERBOSE_HELP, "output": "where the demo's site goes (default: data/demo/output/)"})
def demo(c, verbose=False, output=None):
    """Run the whole pipeline on the bundled sandbox servers; no Plex or Tautulli of your own needed."""
    from pipeline import logs
    from pipeline.run import commands

    logs.setup(verbose=verbose)
    _run(commands.demo, Path("."), output=Path(output) if output else None)


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "period": "build this period, e.g. 2026-W46 or 2026-10 (default: every period due)",
            "rebuild": "recompute the period's frozen issue instead of keeping it as published",
            "no-ingest": "build from the data already in the store"})
def build(c, config=None, verbose=False, period=None, rebuild=False, no_ingest=False):
    """Ingest, freeze the newsletter issues that are due, and build the archive site in output/."""
    from pipeline.run import commands
    _run(lambda: commands.build(commands.settings_for(config, verbose), period=period, rebuild=rebuild,
                                ingest_first=not no_ingest))


@task(help={"config": CONFIG_HELP, "port": "port on 127.0.0.1 (default 8000)"})
def serve(c, config=None, port=8000):
    """Preview the built site on http://127.0.0.1:8000/."""
    from pipeline.run import commands
    _run(lambda: commands.serve(commands.settings_for(config), port=int(port)))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "apply": "upload for real (default: list what would change)",
            "delete": "also delete files in the bucket that the site no longer has"})
def publish(c, config=None, verbose=False, apply=False, delete=False):
    """Build the site with its public URL and upload what changed to S3 (a dry-run listing first)."""
    from pipeline.run import commands
    _run(lambda: commands.publish(commands.settings_for(config, verbose), apply=apply, delete=delete))


@task(name="update-golden")
def update_golden(c):
    """Regenerate the golden files under tests/golden/ on purpose; review the diff before committing."""
    from tests.golden import email_golden, site_golden

    site_golden.update_golden()
    email_golden.update_golden()


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "issue": "the issue to send, e.g. weekly-2026-W46 (default: the latest built)",
            "apply": "deliver through email.backend (ses or smtp; refused with the outbox backend, which "
                     "delivers nothing). Default: a dry run that writes .eml files and lists who would get what",
            "to": "send one preview copy to this address only",
            "resend-unknown": "also resend messages a killed run may or may not have delivered (whoever got one "
                              "gets it twice)"})
def send(c, config=None, verbose=False, issue=None, apply=False, to=None, resend_unknown=False):
    """E-mail an issue's personal digest to every reader, never twice (a dry run without --apply)."""
    from pipeline.run import commands
    _run(lambda: commands.send(commands.settings_for(config, verbose), issue=issue, apply=apply, to=to,
                               resend_unknown=resend_unknown))


@task(help={"config": CONFIG_HELP, "email": "the address that asked to stop getting the newsletter"})
def unsubscribe(c, email, config=None):
    """Stop sending the newsletter to an address (account notices still go)."""
    from pipeline.run import commands
    _run(lambda: commands.unsubscribe(commands.settings_for(config), email))


@task(help={"config": CONFIG_HELP, "email": "the address to send the newsletter to again"})
def resubscribe(c, email, config=None):
    """Undo `invoke unsubscribe` for an address."""
    from pipeline.run import commands
    _run(lambda: commands.unsubscribe(commands.settings_for(config), email, subscribe=True))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "apply": "carry the plan out: e-mails, unsharing users on plex.tv, and DELETING the due movies and "
                     "episodes in Plex and their files in Sonarr/Radarr (default: show the plan and change nothing)",
            "force": "act even when a safety guard refuses (stale data, a silent Tautulli); logged in the audit",
            "scope": "all (default) | users | new_users (welcomes only) | media"})
def enforce(c, config=None, verbose=False, apply=False, force=False, scope="all"):
    """Show the plan (welcome, warn, remove users; delete due media) with reasons; --apply carries it out."""
    from pipeline.run import commands
    _run(lambda: commands.enforce(commands.settings_for(config, verbose), apply=apply, force=force, scope=scope))


ITEM_HELP = 'a title, "Title (Year)" or a rating key ("#123" is always a rating key)'
USERS_HELP = 'comma-separated usernames, friendly names, e-mails or user ids, e.g. "alice,Bobby Tables"'


def _names(users):
    return [u.strip() for u in (users or "").split(",") if u.strip()]


@task(help={"config": CONFIG_HELP, "item": ITEM_HELP, "users": USERS_HELP,
            "season": "assign one season of the show ITEM names (its number, e.g. 2), not the whole show"})
def assign(c, item, users, season=None, config=None):
    """Assign users to a movie, show or season: once every one has watched an item, it is queued for deletion."""
    from pipeline.run import commands
    _run(lambda: commands.retention(commands.settings_for(config), "assign", item, _names(users), season=season))


@task(help={"config": CONFIG_HELP, "item": ITEM_HELP, "users": USERS_HELP + "; empty: every `invoke assign` user"})
def unassign(c, item, users="", config=None):
    """Undo `invoke assign` for these users (says where retention.toml or label assignments live)."""
    from pipeline.run import commands
    _run(lambda: commands.retention(commands.settings_for(config), "unassign", item, _names(users)))


@task(help={"config": CONFIG_HELP, "item": ITEM_HELP, "note": "why, for the audit trail"})
def keep(c, item, note="", config=None):
    """Never delete this movie, show or episode (cancels a queued deletion for good)."""
    from pipeline.run import commands
    _run(lambda: commands.retention(commands.settings_for(config), "keep", item, note=note))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP})
def queue(c, config=None, verbose=False):
    """Recompute and list the deletion queue: dates, sizes, who each item is for and why."""
    from pipeline.run import commands
    _run(lambda: commands.retention(commands.settings_for(config, verbose), "queue_lines"))


@task(help={"config": CONFIG_HELP})
def status(c, config=None):
    """Space freed per month, the queue's totals, unfinished and relisted deletions."""
    from pipeline.run import commands
    _run(lambda: commands.retention(commands.settings_for(config), "status_lines"))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "apply": "act on the timer like `invoke enforce --apply`: e-mails, unsharing users, and DELETING due "
                     "media in Plex and Sonarr/Radarr (default: dry runs that only log the plans)",
            "once": "run one full tick and exit (for testing a setup)"})
def daemon(c, config=None, verbose=False, apply=False, once=False):
    """Run enforce on a timer (new users every 5 min, all every 30), GET /health, and `invoke web` if configured."""
    from pipeline.run import commands
    _run(lambda: commands.daemon(commands.settings_for(config, verbose), apply=apply, once=once))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP})
def web(c, config=None, verbose=False):
    """Serve readers' signed action links (unsubscribe, keep, done, still here) on web.bind:web.port."""
    from pipeline.run import commands
    _run(lambda: commands.web(commands.settings_for(config, verbose)))


@task(help={"config": CONFIG_HELP, "server": "the server to use, by name, when the account owns several "
                                            "(default: ask, or the only one)",
            "env-file": "where PLEX_TOKEN and PLEX_URL are saved (default: .env)"})
def login(c, config=None, server=None, env_file=".env"):
    """Sign in at plex.tv/link with a code, pick your server, and save PLEX_TOKEN and PLEX_URL to .env."""
    from pipeline.run import commands
    from pipeline.run.login import ask_on_terminal, login as sign_in

    _run(lambda: sign_in(commands.settings_for(config), Path(env_file), server=server, ask=ask_on_terminal(),
                         progress=sys.stderr))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP, "env-file": "the .env file to read (default: .env)"})
def doctor(c, config=None, verbose=False, env_file=".env"):
    """Check the set-up (config, Tautulli, Plex, mail, S3, Discord, Sonarr/Radarr, store): one line each, with a fix."""
    from pipeline import logs
    from pipeline.run.doctor import doctor as check

    logs.setup(verbose=verbose)
    _run(check, config, Path(env_file))
