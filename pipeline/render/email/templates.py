"""The e-mail templates: theme/email/*.mjml compiled once by MJML into Jinja templates, and *.txt as is.

MJML (mjml-python, MRML) turns a template into e-mail-safe HTML in about a millisecond, and the
Jinja placeholders in it come out untouched (checked here at compile time), so one compile serves
every reader of an issue. HTML is autoescaped; the plain-text templates are not, since nothing
parses text/plain as HTML and "Tom & Jerry" must read as itself there.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup
from mjml import mjml2html

from pipeline.errors import MarqueeError

THEME = Path(__file__).resolve().parents[3] / "theme" / "email"
# Invisible filler after the preheader, so clients do not pull body text into the inbox preview.
PREVIEW_PAD = Markup("&#847;&zwnj;&nbsp;" * 40)
# Space between cards: a plain div costs 80 bytes where an empty MJML section costs 600.
GAP = Markup('<div style="height:16px;line-height:16px;font-size:16px;">&nbsp;</div>')
_INCLUDE = re.compile(r'<mj-include\s+path="([^"]+)"\s*/>')
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


@lru_cache(maxsize=4096)
def _fill(text: str) -> str:
    return textwrap.fill(text, 76, break_long_words=False, break_on_hyphens=False)


def _wrap(text: Any) -> str:
    """Plain text wrapped at 76 columns; cached, since most paragraphs are the same for every reader."""
    return _fill(str(text))


@lru_cache(maxsize=4)
def environment(theme: Path = THEME) -> Environment:
    """One Jinja environment: HTML and MJML autoescaped, .txt plain."""
    env = Environment(loader=FileSystemLoader(str(theme)), trim_blocks=True, lstrip_blocks=True,
                      autoescape=select_autoescape(enabled_extensions=("html", "mjml"), disabled_extensions=("txt",),
                                                   default_for_string=True, default=True))
    env.filters["wrap"] = _wrap
    return env


def _source(theme: Path, name: str) -> str:
    path = theme / Path(name).name  # partials sit flat in theme/email; nothing outside it is read
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MarqueeError(f"e-mail template {path} cannot be read ({exc.strerror})") from None


def _expand(theme: Path, src: str, depth: int = 0) -> str:
    """Inline <mj-include> ourselves: MRML's includes lose the body width (sections come out full-width)."""
    if depth > 4:
        raise MarqueeError("e-mail templates: <mj-include> nested more than 4 deep (a loop?)")
    return _INCLUDE.sub(lambda m: _expand(theme, _source(theme, m.group(1)), depth + 1), src)


def compile_mjml(name: str, theme: Path = THEME) -> str:
    """theme/email/<name>.mjml as HTML with its Jinja placeholders intact; raises if MJML altered one."""
    src = _expand(theme, _source(theme, f"{name}.mjml"))
    try:
        html = mjml2html(src, fonts={})  # no web fonts: MJML would link Google Fonts for "Roboto"
    except Exception as exc:  # MRML raises ValueError and friends, with a position in the message
        raise MarqueeError(f"e-mail template {name}.mjml is not valid MJML: {exc}") from None
    wanted = Counter(_PLACEHOLDER.findall(src))
    found = Counter(_PLACEHOLDER.findall(html))
    # MJML may copy one (the title also labels the body), but must neither drop nor alter any
    if set(found) != set(wanted) or any(found[p] < n for p, n in wanted.items()):
        raise MarqueeError(f"e-mail template {name}.mjml: MJML changed a Jinja placeholder; keep them in text "
                           "and attribute values, and put block tags between sections in <mj-raw>")
    if re.search(r"<link\b|@import|https?://fonts\.", html):
        raise MarqueeError(f"e-mail template {name}.mjml would load something from the web; remove it")
    return html


@lru_cache(maxsize=32)
def compiled(name: str, theme: Path = THEME) -> Template:
    """The compiled HTML of theme/email/<name>.mjml as a Jinja template (cached for the process)."""
    return environment(theme).from_string(compile_mjml(name, theme), globals={"gap": GAP})


def macros(name: str, theme: Path = THEME) -> Any:
    """The macros of a partial (e.g. "_bars.html"), callable from Python; each returns Markup."""
    return environment(theme).get_template(name).module
