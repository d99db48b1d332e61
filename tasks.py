"""Marquee's admin tasks. Thin: each parses its flags and calls a plain function in pipeline.commands."""

from pathlib import Path

from invoke import Exit, task

CONFIG_HELP = "path to marquee.toml (default: ./marquee.toml, or $MARQUEE_CONFIG)"
VERBOSE_HELP = "debug logging"


def _run(fn, *args, **kwargs):
    from pipeline.commands import guarded

    code = guarded(fn, *args, **kwargs)
    if code:
        raise Exit(code=code)


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP})
def ingest(c, config=None, verbose=False):
    """Copy Tautulli history and the Plex inventory into data/marquee.duckdb (incremental)."""
    from pipeline import commands

    _run(lambda: commands.ingest(commands.settings_for(config, verbose)))


@task(help={"verbose": VERBOSE_HELP})
def demo(c, verbose=False):
    """Run the whole pipeline on the bundled sandbox servers; no Plex or Tautulli of your own needed."""
    from pipeline import commands, logs

    logs.setup(verbose=verbose)
    _run(commands.demo, Path("."))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "period": "build this period, e.g. 2026-W46 or 2026-10 (default: every period due)",
            "rebuild": "recompute the period's frozen issue instead of keeping it as published",
            "no-ingest": "build from the data already in the store"})
def build(c, config=None, verbose=False, period=None, rebuild=False, no_ingest=False):
    """Ingest, freeze the newsletter issues that are due, and build the archive site in output/."""
    from pipeline import commands

    _run(lambda: commands.build(commands.settings_for(config, verbose), period=period, rebuild=rebuild,
                                ingest_first=not no_ingest))


@task(help={"config": CONFIG_HELP, "port": "port on 127.0.0.1 (default 8000)"})
def serve(c, config=None, port=8000):
    """Preview the built site on http://127.0.0.1:8000/."""
    from pipeline import commands

    _run(lambda: commands.serve(commands.settings_for(config), port=int(port)))


@task(help={"config": CONFIG_HELP, "verbose": VERBOSE_HELP,
            "apply": "upload for real (default: list what would change)",
            "delete": "also delete files in the bucket that the site no longer has"})
def publish(c, config=None, verbose=False, apply=False, delete=False):
    """Build the site with its public URL and upload what changed to S3 (a dry-run listing first)."""
    from pipeline import commands

    _run(lambda: commands.publish(commands.settings_for(config, verbose), apply=apply, delete=delete))


@task(name="update-golden")
def update_golden(c):
    """Regenerate the golden files under tests/golden/ on purpose; review the diff before committing."""
    from tests.golden import site_golden

    site_golden.update_golden()
