"""Images for e-mails, built once per issue: inline MIME parts (CID) or absolute URLs on the archive.

Encoding a 30 KB image into a MIME part costs milliseconds, so each poster and chart is encoded
once here and the same bytes are appended to every recipient's message. Nothing is fetched:
posters come from render/images.py's cache and charts from pipeline/render/charts.py, as files or bytes.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from PIL import Image

POSTER_DIR = "images/posters"   # where the site keeps posters (render/assets.py)
CHART_DIR = "images/charts"     # where the site keeps an issue's charts, under <slug>/
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class EmailImages:
    """What a renderer may show; nothing here is fetched or resized again.

    posters: rating_key -> PosterFile (render/images.py), a path, or JPEG/PNG bytes.
    charts: name ("heatmap", ...) -> ChartFile (pipeline/render/charts.py), {"png", "alt", "width", "height"},
    a path or PNG bytes.
    """

    posters: Mapping[Any, Any] = field(default_factory=dict)
    charts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EmailImage:
    """One image as a template uses it; `part` is its ready MIME part when inline, else b""."""

    src: str        # "cid:..." or an absolute URL
    width: int      # CSS pixels at 1x
    height: int
    alt: str = ""
    cid: str = ""
    part: bytes = b""


def images_mode(setting: str, siteurl: str) -> str:
    """'inline' or 'hosted': email.images, where 'auto' means hosted once the archive has a public URL."""
    if setting == "auto":
        return "hosted" if siteurl else "inline"
    return setting


def b64_lines(data: bytes) -> bytes:
    """Base64 in 76-character CRLF lines (RFC 2045); one C call plus a join is ~10x email.encoders."""
    enc = binascii.b2a_base64(data, newline=False)
    return b"\r\n".join([enc[i:i + 76] for i in range(0, len(enc), 76)])


def mime_part(data: bytes, subtype: str, cid: str, filename: str) -> bytes:
    """An inline image part: headers, blank line, base64 body, trailing CRLF."""
    head = (f"Content-Type: image/{subtype}\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-ID: <{cid}>\r\nContent-Disposition: inline; filename=\"{filename}\"\r\n\r\n")
    return head.encode("ascii") + b64_lines(data) + b"\r\n"


def _digest(data: bytes, n: int = 12) -> str:
    return hashlib.sha256(data).hexdigest()[:n]


def _read(source: Any) -> bytes:
    """The bytes of a path or of bytes; OSError when a path cannot be read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return Path(source).read_bytes()


def _probe(data: bytes) -> tuple[str, int, int] | None:
    """(subtype, width, height) of a JPEG or PNG, or None for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = (img.format or "").lower()
            size = img.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if fmt not in ("jpeg", "png"):
        return None
    return fmt, size[0], size[1]


def _site_poster_name(data: bytes, source: Any) -> str:
    """What render/assets.poster_refs names a plain poster file: <hash><its suffix>."""
    suffix = "" if isinstance(source, (bytes, bytearray, memoryview)) else Path(source).suffix.lower()
    return _digest(data) + (suffix if suffix in (".jpg", ".jpeg", ".png", ".webp") else ".jpg")


class ImageSet:
    """Turns the issue's posters and charts into EmailImages, each encoded at most once."""

    def __init__(self, images: EmailImages | Mapping[str, Any] | None, mode: str, siteurl: str, slug: str,
                 domain: str) -> None:
        if images is None:
            images = EmailImages()
        elif isinstance(images, Mapping):
            images = EmailImages(images.get("posters") or {}, images.get("charts") or {})
        self.source = images
        self.mode = mode
        self.siteurl = siteurl.rstrip("/")
        self.slug = slug
        self.domain = domain
        self.hosted_files: dict[str, Path | bytes] = {}  # site-relative path -> file the site must serve
        self._inline: list[EmailImage] = []

    def _make(self, name: str, data: bytes, path: Path | None, rel_dir: str, css_width: int | None,
              alt: str, site_name: str = "") -> EmailImage | None:
        probe = _probe(data)
        if probe is None:
            return None
        subtype, width, height = probe
        if css_width and css_width < width:  # a 2x chart PNG: show it at its CSS size
            width, height = css_width, round(height * css_width / width)
        suffix = ".jpg" if subtype == "jpeg" else ".png"
        if self.mode == "hosted":
            # the names the site gives them: cached files keep theirs (content-hashed), others their hash
            rel = f"{rel_dir}/{site_name or (path.name if path else _digest(data) + suffix)}"
            self.hosted_files[rel] = path or data
            return EmailImage(f"{self.siteurl}/{rel}", width, height, alt)
        cid = f"{_SAFE.sub('-', name)}.{_digest(data, 10)}@{self.domain}"
        part = mime_part(data, subtype, cid, f"{_SAFE.sub('-', name)}{suffix}")
        image = EmailImage(f"cid:{cid}", width, height, alt, cid, part)
        self._inline.append(image)
        return image

    def inline_images(self) -> list[EmailImage]:
        """Every inline image made so far, each once (a poster shown twice is one part)."""
        return list({img.cid: img for img in self._inline}.values())

    def posters(self, keys: Iterable[Any]) -> dict[str, EmailImage]:
        """The posters of these rating keys that can be shown, keyed by str(rating_key)."""
        found: dict[str, EmailImage] = {}
        by_key = {str(k): v for k, v in (self.source.posters or {}).items()}
        for key in dict.fromkeys(str(k) for k in keys if k not in (None, "")):
            poster = by_key.get(key)
            if poster is None:
                continue
            files = getattr(poster, "files", None)
            try:
                if files:  # a PosterFile: 1x inline (its bytes ride in every message), 2x when hosted
                    path: Path | None = Path(files[max(files) if self.mode == "hosted" else min(files)])
                    data = path.read_bytes()
                else:
                    source = getattr(poster, "path", poster)
                    data = _read(source)
                    path = None if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
            except OSError:
                continue
            site_name = "" if files else _site_poster_name(data, source)
            image = self._make(f"poster-{key}", data, path, POSTER_DIR, None, "", site_name)
            if image is not None and files:  # the PosterFile's own size is its 1x size
                image = EmailImage(image.src, int(poster.width), int(poster.height), "", image.cid, image.part)
            if image is not None:
                found[key] = image
        return found

    def chart(self, name: str) -> EmailImage | None:
        """One chart as PNG, or None when it was not rendered or cannot be read."""
        chart = (self.source.charts or {}).get(name)
        if isinstance(chart, Mapping):
            png, alt, css_width = chart.get("png"), str(chart.get("alt") or ""), chart.get("width")
        elif hasattr(chart, "png_path"):
            png, alt, css_width = chart.png_path, str(chart.alt_text or ""), getattr(chart, "width", None)
        else:
            png, alt, css_width = chart, "", None
        if png is None:
            return None
        try:
            data = _read(png)
        except OSError:
            return None
        path = None if isinstance(png, (bytes, bytearray, memoryview)) else Path(png)
        return self._make(f"chart-{name}", data, path, f"{CHART_DIR}/{self.slug}", int(css_width or 0), alt)
