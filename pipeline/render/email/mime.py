"""RFC 5322 messages assembled from pre-encoded parts: for bulk, ~10x faster than email.message.

Every line ends in CRLF. Bodies are quoted-printable (text) or base64 (HTML, images), so a
boundary that starts with "=_" can never occur inside one (RFC 2045 §6.7 and §6.8).
"""

from __future__ import annotations

import binascii
from email.header import Header
from email.utils import formataddr
from typing import Iterable, Sequence

from pipeline.render.email.images import b64_lines
from pipeline.text import header_text

CRLF = "\r\n"


def one_line(value: object) -> str:
    """One header line: no CR or LF starts a new header, no control or bidi override (U+202E) disguises a name."""
    return header_text(value)


def header_value(name: str, value: object) -> str:
    """A header's value: plain ASCII as is, anything else as RFC 2047 encoded words, folded."""
    text = one_line(value)
    if text.isascii() and len(name) + 2 + len(text) <= 78:
        return text
    charset = "us-ascii" if text.isascii() else "utf-8"
    return Header(text, charset, header_name=name).encode(linesep=CRLF)


def address(name: str, email: str) -> str:
    """'Name <addr>' with the name quoted or encoded as needed; just the address without a name."""
    name = one_line(name)
    return formataddr((name, email), charset="utf-8") if name else email


def qp(text: str) -> bytes:
    """UTF-8 quoted-printable with CRLF line ends; the first line end tells binascii which to use."""
    data = text.replace("\r\n", "\n").replace("\n", CRLF)
    if not data.endswith(CRLF):
        data += CRLF
    return binascii.b2a_qp(data.encode("utf-8"), istext=True)


def assemble(headers: Iterable[tuple[str, str]], text: str, html: str | bytes, parts: Sequence[bytes],
             boundary: str) -> bytes:
    """The whole message: multipart/alternative of text/plain and text/html, the HTML inside a
    multipart/related with `parts` (encoded image parts) when there are any.

    headers: (name, already-encoded value) pairs; boundary: a token unique to the issue.
    """
    alt, rel = f"=_alt_{boundary}", f"=_rel_{boundary}"
    head = "".join(f"{name}: {value}{CRLF}" for name, value in headers)
    out = [
        (f"{head}MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative; boundary=\"{alt}\"{CRLF}{CRLF}"
         f"--{alt}{CRLF}Content-Type: text/plain; charset=\"utf-8\"{CRLF}"
         f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}").encode("utf-8"),
        qp(text),
        f"--{alt}{CRLF}".encode("ascii"),
    ]
    html_head = (f"Content-Type: text/html; charset=\"utf-8\"{CRLF}"
                 f"Content-Transfer-Encoding: base64{CRLF}{CRLF}").encode("ascii")
    body = b64_lines(html if isinstance(html, bytes) else html.encode("utf-8")) + b"\r\n"
    if parts:
        out.append((f"Content-Type: multipart/related; boundary=\"{rel}\"; type=\"text/html\"{CRLF}{CRLF}"
                    f"--{rel}{CRLF}").encode("ascii"))
        out += [html_head, body]
        for part in parts:
            out += [f"--{rel}{CRLF}".encode("ascii"), part]
        out.append(f"--{rel}--{CRLF}".encode("ascii"))
    else:
        out += [html_head, body]
    out.append(f"--{alt}--{CRLF}".encode("ascii"))
    return b"".join(out)
