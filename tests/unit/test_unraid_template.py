"""The Unraid template (docs/unraid/marquee.xml) names only real settings, every required one, the volumes and the port."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pydantic import BaseModel

from pipeline.settings import ENV_PREFIX, PLAIN_ENV, SECRET_ENV, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "docs" / "unraid" / "marquee.xml"
AWS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # read by boto3 itself, for SES and S3
REQUIRED = {"TAUTULLI_URL", "TAUTULLI_API_KEY"}  # nothing is ingested without them
VOLUMES = {"/config", "/data", "/output"}  # the Dockerfile's VOLUMEs


def configs(kind: str) -> dict[str, ET.Element]:
    return {c.get("Target"): c for c in ET.parse(TEMPLATE).getroot().iter("Config") if c.get("Type") == kind}


def setting_variables(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= setting_variables(field.annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(prefix + name.upper())
    return names


def test_every_variable_is_a_marquee_setting():
    known = set(SECRET_ENV) | set(PLAIN_ENV) | setting_variables() | AWS
    unknown = sorted(set(configs("Variable")) - known)
    assert unknown == [], f"the template names settings Marquee does not have: {unknown}"


def test_secret_settings_are_never_set_through_the_generic_prefix():
    secrets = {f"{ENV_PREFIX}{s.upper()}__{k.upper()}" for s, k in SECRET_ENV.values()}
    assert not secrets & set(configs("Variable")), "secrets have their own variables (SECRET_ENV)"


def test_required_variables_volumes_and_port_are_there_and_marked():
    variables, paths, ports = configs("Variable"), configs("Path"), configs("Port")
    assert REQUIRED <= set(variables), f"missing required variables: {sorted(REQUIRED - set(variables))}"
    assert all(variables[name].get("Required") == "true" for name in REQUIRED)
    assert set(paths) == VOLUMES and all(p.get("Required") == "true" for p in paths.values())
    assert set(ports) == {"8787"}
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'VOLUME ["/config", "/data", "/output"]' in dockerfile and "EXPOSE 8787" in dockerfile


def test_every_value_the_template_fills_in_is_valid():
    filled = {name: c.text.strip() for name, c in configs("Variable").items() if c.text and name not in AWS}
    load_settings(None, environ=filled, dotenv_path=None)  # a ConfigError names the bad one
    for name, c in configs("Variable").items():
        choices = (c.get("Default") or "").split("|")
        if len(choices) > 1:  # an Unraid drop-down: every choice must load too
            for choice in choices:
                load_settings(None, environ={name: choice}, dotenv_path=None)
