"""Every setting and every task is documented; the example config names every setting."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from pydantic import BaseModel

from pipeline.settings import SECRET_ENV, Settings

ROOT = Path(__file__).resolve().parents[2]


def setting_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            keys += setting_keys(field.annotation, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def test_every_setting_is_in_docs_settings_md():
    doc = (ROOT / "docs/settings.md").read_text()
    missing = [k for k in setting_keys() if f"`{k}`" not in doc]
    assert not missing, f"undocumented settings: {missing}"


def test_example_config_has_every_non_secret_setting_and_parses():
    example = tomllib.loads((ROOT / "marquee.example.toml").read_text())
    secrets = {f"{s}.{k}" for s, k in SECRET_ENV.values()}
    flat = {f"{section}.{key}" for section, table in example.items() for key in table}
    assert flat == set(setting_keys()) - secrets
    Settings.model_validate(example)


def test_every_task_is_documented_with_help():
    out = subprocess.run([sys.executable, "-m", "invoke", "--list"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    tasks = re.findall(r"^  ([a-z][\w-]*)", out, flags=re.M)
    assert "demo" in tasks and "ingest" in tasks
    doc = (ROOT / "docs/tasks.md").read_text()
    assert not [t for t in tasks if f"`invoke {t}" not in doc]
    for line in out.splitlines()[2:]:
        if re.match(r"^  [a-z]", line):
            assert len(line.split(None, 1)) == 2, f"task without a one-line help: {line!r}"
