"""Links from a frozen issue's titles into Plex Web: only for titles Plex had when the issue was frozen."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pipeline.tokens import plex_url


def plex_links(snapshot: Mapping[str, Any]) -> Callable[[Any], str]:
    """rating_key -> its app.plex.tv page, or '' (an older snapshot without a machine id, or a title Plex lacked)."""
    plex = snapshot.get("plex") or {}
    machine = str(plex.get("machine_id") or "")
    listed = {str(k) for k in plex.get("in_plex") or ()}

    def link(rating_key: Any) -> str:
        if not machine or rating_key in (None, "") or str(rating_key) not in listed:
            return ""
        return plex_url(machine, int(rating_key))

    return link
