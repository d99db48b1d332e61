"""One short, URL-free cause for a failed connection, shared by every HTTP client (requests echoes URLs, keys included)."""

from __future__ import annotations

import re

import requests


def reason(exc: Exception) -> str:
    """A short cause without URLs, e.g. "connection refused", "timed out"."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno.group(1).strip().rstrip(".").lower()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection closed without an answer"
    return type(exc).__name__
