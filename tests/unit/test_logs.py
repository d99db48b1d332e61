"""The redactor removes secrets from messages, arguments and tracebacks."""

import logging

from pipeline.logs import RedactingFilter

KEY = "0123456789abcdef0123456789abcdef"


def emit(filt: RedactingFilter, msg: str, *args, exc: BaseException | None = None) -> logging.LogRecord:
    record = logging.LogRecord("marquee", logging.ERROR, __file__, 1, msg, args,
                               (type(exc), exc, exc.__traceback__) if exc else None)
    assert filt.filter(record)
    return record


def test_known_secret_values_are_replaced_anywhere():
    f = RedactingFilter([KEY, "plextoken99"])
    rec = emit(f, "calling %s with %s", f"http://t/api/v2?cmd=x&apikey={KEY}", {"token": "plextoken99"})
    assert KEY not in rec.getMessage() and "plextoken99" not in rec.getMessage()
    assert "[redacted]" in rec.getMessage()


def test_credential_parameters_are_redacted_even_when_unknown():
    f = RedactingFilter()
    text = f.redact("GET /x?apikey=abc123&cmd=y X-Plex-Token=zzz999 X-Api-Key: sonarrkey1")
    assert "abc123" not in text and "zzz999" not in text and "sonarrkey1" not in text
    assert text.count("[redacted]") == 3


def test_traceback_text_is_redacted():
    f = RedactingFilter([KEY])
    try:
        raise RuntimeError(f"failed at http://t/api/v2?apikey={KEY}")
    except RuntimeError as exc:
        rec = emit(f, "boom", exc=exc)
    assert rec.exc_info is None and KEY not in rec.exc_text and "RuntimeError" in rec.exc_text


def test_short_values_are_not_treated_as_secrets():
    # an empty or tiny "secret" would otherwise blank out ordinary words
    f = RedactingFilter(["", "ab"])
    assert f.redact("about tab") == "about tab"


def test_progress_off_a_terminal_logs_counts_rate_and_time_left(caplog):
    from pipeline import logs

    assert not logs.is_terminal()  # pytest captures stderr: the plain-log path
    with caplog.at_level(logging.INFO, logger="marquee"):
        with logs.Progress("Tautulli history", total=1000, unit="plays", every=0) as progress:
            progress.advance(250)
    line = caplog.records[-1].getMessage()
    assert line.startswith("Tautulli history: 250/1,000 plays (") and "plays/s" in line and "s left" in line


def test_progress_with_nothing_done_yet_does_not_guess_the_time_left(caplog):
    # An empty first window (no plays in the last week) used to print "about 20,000,000,000,000s left".
    from pipeline import logs

    with caplog.at_level(logging.INFO, logger="marquee"):
        with logs.Progress("Tautulli history", total=20_000, unit="plays", every=0) as progress:
            progress.advance(0)
    line = caplog.records[-1].getMessage()
    assert line == "Tautulli history: 0/20,000 plays (0 plays/s, time left not known yet)"
