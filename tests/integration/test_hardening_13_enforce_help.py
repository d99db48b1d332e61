"""Issue 11, item 13: `invoke --help enforce` (and `invoke --help daemon`) say that --apply deletes media."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def apply_help(task: str) -> str:
    """The --apply line of `invoke --help TASK`, as one line of text."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "invoke", "--help", task], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    options = out.stdout.split("Options:", 1)[1]
    found = re.search(r"--apply\s+(.*?)(?=\n\s+-\w, --|\Z)", options, re.S)
    assert found, out.stdout
    return " ".join(found.group(1).split())


@pytest.mark.parametrize("task", ["enforce", "daemon"])
def test_apply_says_it_deletes_media_in_plex_and_sonarr_radarr(task):
    """Item 13: an admin reading --help learns that --apply deletes movies and episodes, and where."""
    text = apply_help(task)
    assert "DELETING" in text and "Plex" in text and "Sonarr/Radarr" in text, text
    assert "unsharing" in text and "e-mails" in text  # and still the rest of what it does
