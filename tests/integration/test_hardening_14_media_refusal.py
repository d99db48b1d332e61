"""Issue 11, item 14: `invoke enforce --scope media --apply` refusing shows its reasons above its last line, and
says it refused to delete media (not to warn or remove anyone). A real `invoke` in a fresh working directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_media_refusal_lists_its_reasons_and_names_what_it_refused(tmp_path):
    """Item 14: "(N reasons above)" has N `refused:` lines above it, and the wording is about media."""
    (tmp_path / "tasks.py").symlink_to(ROOT / "tasks.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    out = subprocess.run([sys.executable, "-m", "invoke", "enforce", "--scope", "media", "--apply"], cwd=tmp_path,
                         capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == 3, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, out.stderr
    said = re.search(r"\((\d+) reasons? above\)", errors[0])
    reasons = [line for line in out.stdout.splitlines() if line.startswith("refused: ")]
    assert said and int(said.group(1)) == len(reasons) >= 1, (out.stdout, errors)
    assert "ingest" in reasons[0]  # nothing was ever ingested: the data guard
    assert "refused to delete any media" in errors[0] and "warn or remove" not in errors[0]
