"""The house plan holds: no module imports a stage above it (docs/architecture.md), at any depth of the function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"

# Each stage may import itself and the stages listed for it; nothing else of pipeline/. Keep in step with
# docs/architecture.md.
BASE = {"settings", "errors", "clock", "logs", "text", "tokens"}
MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),
    "sql": set(),
    "sandbox": set(),
    "clients": {"base"},
    "store": {"base"},
    "policy": {"base"},
    "web": {"base"},  # never the store: the web app answers while a long run holds it
    "ingest": {"base", "clients", "store", "web"},  # web: only its inbox module (ingest/inbox.py takes it in)
    "stats": {"base", "store"},
    "media": {"base", "store", "policy"},
    "render": {"base", "stats", "policy"},
    "send": {"base", "store", "render"},
    "notices": {"base", "store", "policy", "render", "send", "clients"},
    "act": {"base", "clients", "store", "policy", "media", "notices"},
    "run": {"base", "clients", "store", "policy", "ingest", "stats", "media", "render", "send", "notices", "act",
            "sandbox", "web"},
}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pipeline" or len(parts) < 2 or parts[1] == "__init__":
        return None
    return "base" if parts[1] in BASE else parts[1]


def modules() -> list[Path]:
    return sorted(p for p in PIPELINE.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """Every pipeline module a file imports, anywhere in it (function-level imports included)."""
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = path.relative_to(PIPELINE.parent).with_suffix("").parts[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out.append((node.lineno, module))
    return [(line, m) for line, m in out if m.startswith("pipeline")]


def test_every_stage_is_in_the_plan():
    stages = {stage_of("pipeline." + p.relative_to(PIPELINE).with_suffix("").parts[0]) for p in modules()
              if p.relative_to(PIPELINE).parts[0] != "__init__.py"}
    assert stages <= set(MAY_IMPORT), f"stages missing from the plan: {sorted(stages - set(MAY_IMPORT))}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PIPELINE)))
def test_no_module_imports_a_stage_above_it(path: Path):
    own = stage_of("pipeline." + ".".join(path.relative_to(PIPELINE).with_suffix("").parts))
    if own is None:
        return
    allowed = MAY_IMPORT[own] | {own}
    wrong = [f"line {line}: {m} ({stage_of(m)})" for line, m in imported(path)
             if stage_of(m) is not None and stage_of(m) not in allowed]
    assert not wrong, f"{path.relative_to(PIPELINE)} ({own}) may import only {sorted(allowed)}: " + "; ".join(wrong)


def test_the_check_sees_function_level_and_relative_imports(tmp_path: Path):
    sample = PIPELINE / "render" / "_sample_for_test.py"
    try:
        sample.write_text("def f():\n    from pipeline.store import open_store\n    from ..act import users\n")
        assert [m for _, m in imported(sample)] == ["pipeline.store", "pipeline.act"]
    finally:
        sample.unlink()
