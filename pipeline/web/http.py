"""The HTTP/1.1 protocol the app is served with: uvicorn's httptools one, with a bound on the request head.

httptools (llhttp, C) parses where h11 is pure Python: the serving thread spends about a quarter less CPU per action
(docs/benchmarks.md). Unlike h11, it buffers a request head without limit, so this counts the bytes of a head still
unfinished and answers 400 and closes once they pass MAX_HEAD (h11 did the same at its max incomplete event size).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 16 * 1024  # request line and headers; a signed link and a proxy's headers need a few hundred bytes


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol; a head that grows past MAX_HEAD unfinished gets 400 and the connection closes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_bytes = 0  # a pipelined request's head starts its own count
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_head:
            self._head_bytes = 0
            return
        # Counts whole reads that end inside a head: at most one read more than the head itself.
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD and not self.transport.is_closing():
            self.send_400_response("Request head too large.")
