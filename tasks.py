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
