"""Text from outside (Tautulli, Plex, settings) made safe to store and to write as XML, HTML, SVG and e-mail."""

from __future__ import annotations

import re
from typing import Any

# Code points no title or name means: C0 controls but tab, LF and CR, DEL and the C1 controls, and the
# noncharacters. XML 1.0 forbids most of them, so one \x0b broke the feeds and vl-convert's SVG parser;
# the others drive terminals (\x1b, \x9b). Removed, never replaced: "Bad\x0bTitle" reads "BadTitle".
_RANGES = [(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F), (0xFDD0, 0xFDEF), (0xFFFE, 0xFFFF)]
_CONTROL = re.compile("[" + "".join(f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in _RANGES) + "\\ud800-\\udfff]")
# The same set for Arrow's RE2 (pyarrow.compute.replace_substring_regex); Arrow strings hold no surrogates.
ARROW_CONTROL = "[" + "".join(f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in _RANGES) + "]"
# Bidirectional embeddings, overrides, isolates and marks: in a header they can make "Ann\u202egpj.exe"
# show as something else, and they never belong to a display name or subject.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """`value` without control characters (tabs and newlines are kept) or noncharacters."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


def clean_or_none(value: Any) -> str | None:
    """clean_text(str(value)), or None for None."""
    return None if value is None else clean_text(str(value))


def clean_tree(value: Any) -> Any:
    """Every string in nested dicts, lists and tuples cleaned (keys too); other values as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_tree(v) for v in value)
    return value


def header_text(value: Any) -> str:
    """One line for an e-mail header: no controls, no bidirectional formatting, whitespace collapsed."""
    return " ".join(_BIDI.sub("", clean_text(str(value))).split())


def safe_url(value: Any) -> str:
    """Only http(s) links reach a template: a javascript: URL would survive escaping."""
    text = str(value or "").strip()
    return text if text.startswith(("https://", "http://")) else ""
