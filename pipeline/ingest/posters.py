"""Posters for the site and e-mails: fetched from Plex once, resized, cached, copied into the output.

The token travels only in the X-Plex-Token header; files are named from the rating key and a
hash of the thumb path, and are re-encoded from pixels, so neither the Plex URL nor the token can
reach anything written. Any failure means "no poster": the template shows a placeholder.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import requests
from PIL import Image, ImageOps

from pipeline.clients.http import Failure, HttpClient
from pipeline.errors import ConfigError, SourceError

if TYPE_CHECKING:
    from pipeline.settings import PlexSettings

log = logging.getLogger(__name__)

WIDTHS = (200, 400)          # CSS width and its 2x
OUTPUT_SUBDIR = "images/posters"
WORKERS = 4                  # a PMS transcodes thumbs on demand; more in parallel only queues there
MAX_BYTES = 20_000_000       # a poster is well under 1 MB; anything bigger is not one
# Changing how files are encoded must change their names, or year-long caches would keep the old ones.
ENCODER = "jpeg-q82-420-v1"
JPEG = {"format": "JPEG", "quality": 82, "optimize": True, "progressive": False, "subsampling": "4:2:0"}


@dataclass(frozen=True)
class PosterFile:
    """One item's poster at every width; width/height are those of the 1x (smallest) file."""

    rating_key: Any
    files: dict[int, Path]   # width -> cached JPEG
    width: int
    height: int

    def href(self, width: int) -> str:
        """Its path inside the built site, e.g. images/posters/1001-3f2a…-200.jpg."""
        return f"{OUTPUT_SUBDIR}/{self.files[width].name}"


def cache_dir_for(data_dir: Path) -> Path:
    """Where posters are kept between builds: <data.dir>/cache/posters."""
    return Path(data_dir) / "cache" / "posters"


def poster_name(rating_key: Any, thumb: str, width: int) -> str:
    """<rating_key>-<hash of thumb path and encoder>-<width>.jpg: a new thumb is a new name."""
    digest = hashlib.sha256(f"{thumb}|{ENCODER}".encode()).hexdigest()[:12]
    return f"{rating_key}-{digest}-{width}.jpg"


def resize(data: bytes, widths: Iterable[int] = WIDTHS) -> dict[int, bytes]:
    """Decode an image and re-encode it as a JPEG at each width, keeping its aspect ratio."""
    with Image.open(io.BytesIO(data)) as src:
        src.load()
        img = ImageOps.exif_transpose(src).convert("RGB")
    out: dict[int, bytes] = {}
    for width in widths:
        height = max(1, round(img.height * width / img.width))
        small = img.resize((width, height), Image.Resampling.LANCZOS)
        small.info = {}  # no comment, EXIF or ICC block from the source rides along
        buf = io.BytesIO()
        small.save(buf, **JPEG)
        out[width] = buf.getvalue()
    return out


def _write(path: Path, data: bytes) -> None:
    """Atomic, so a crash or a parallel build never leaves half a JPEG in the cache."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _cached(rating_key: Any, paths: dict[int, Path]) -> PosterFile | None:
    if not all(p.is_file() for p in paths.values()):
        return None
    first = min(paths)
    try:
        with Image.open(paths[first]) as img:  # reads the header only
            width, height = img.size
    except OSError:
        return None
    return PosterFile(rating_key, dict(paths), width, height)


def _read_capped(resp: requests.Response) -> bytes | None:
    """The body, or None once it passes MAX_BYTES (without reading the rest)."""
    chunks, total = [], 0
    for chunk in resp.iter_content(64 * 1024):
        total += len(chunk)
        if total > MAX_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Fetcher:
    """Downloads for one build; stops asking once Plex is down or refuses the token."""

    def __init__(self, plex: "PlexSettings", session: requests.Session | None, widths: tuple[int, ...],
                 workers: int) -> None:
        token = plex.token.get_secret_value()
        # No retries: a failure is a placeholder. No redirects: requests would carry the token elsewhere.
        self.http = HttpClient("Plex", plex.url, timeout=plex.timeout_seconds, session=session, verify=plex.verify_tls,
                               pool=workers, headers={"X-Plex-Token": token, "Accept": "image/jpeg,image/*"},
                               secrets=[token], url_setting="PLEX_URL", key_setting="PLEX_TOKEN", describe=_outcome)
        self.widths = widths
        self.stop: str | None = None  # why every further download is pointless
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _failed(self, reason: str, stop: bool = False) -> None:
        with self._lock:
            self.outcomes[reason] += 1
            if stop and self.stop is None:
                self.stop = reason

    def get(self, rating_key: Any, thumb: str, paths: dict[int, Path]) -> PosterFile | None:
        if self.stop is not None:
            return self._failed(self.stop)
        try:
            with self.http.request("GET", thumb, what="GET poster", stream=True) as resp:
                status, body = resp.status_code, _read_capped(resp) if resp.status_code == 200 else b""
        except SourceError as exc:
            return self._failed(str(exc), stop=exc.kind in ("unreachable", "timeout", "tls", "refused"))
        except requests.RequestException as exc:  # the body broke off; its message would carry the URL
            return self._failed(f"request failed ({type(exc).__name__})")
        if status != 200:
            return self._failed(f"HTTP {status}")
        if body is None:
            return self._failed("too large")
        try:
            encoded = resize(body, self.widths)
        except (OSError, ValueError, Image.DecompressionBombError):
            return self._failed("not an image")
        for width, data in encoded.items():
            try:
                _write(paths[width], data)
            except OSError as exc:
                raise ConfigError(f"cannot write the poster cache {paths[width].parent} ({exc.strerror}); "
                                  "check data.dir") from None
        with self._lock:
            self.outcomes["fetched"] += 1
        return _cached(rating_key, paths)


def _outcome(f: Failure) -> str:
    """A failure as one outcome of the build's summary line, e.g. "not found" (×3)."""
    if f.kind in ("unreachable", "timeout", "tls"):
        return "Plex unreachable"
    if f.kind == "refused":
        return f"Plex refused the token ({f.status})"
    if f.kind == "not_found":
        return "not found"
    if f.kind == "request":
        return f"request failed ({f.exception})"
    return f"HTTP {f.status}"


def fetch_posters(items: Iterable[Mapping[str, Any]], plex: "PlexSettings", cache_dir: Path,
                  session: requests.Session | None = None, widths: Iterable[int] = WIDTHS,
                  workers: int = WORKERS) -> dict[Any, PosterFile]:
    """Posters for items [{"rating_key", "thumb"}], from the cache or else from Plex.

    Items without a poster are simply absent from the result; one warning line sums them up.
    thumb is Plex's path (/library/metadata/<rk>/thumb/<ts>); anything else is not fetched.
    """
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the poster cache {cache_dir} ({exc.strerror}); check data.dir") from None
    widths = tuple(sorted(set(widths)))
    wanted: dict[Any, str] = {}
    for item in items:
        thumb = item.get("thumb") or ""
        if item.get("rating_key") is not None and thumb.startswith("/") and not thumb.startswith("//"):
            wanted.setdefault(item["rating_key"], thumb)

    found: dict[Any, PosterFile] = {}
    todo: list[tuple[Any, str, dict[int, Path]]] = []
    for rk, thumb in wanted.items():
        paths = {w: cache_dir / poster_name(rk, thumb, w) for w in widths}
        hit = _cached(rk, paths)
        if hit is not None:
            found[rk] = hit
        else:
            todo.append((rk, thumb, paths))
    if not todo:
        return found
    if not plex.configured:
        log.warning("posters: %d not cached and plex.url / PLEX_TOKEN not set; the pages show placeholders",
                    len(todo))
        return found

    fetcher = _Fetcher(plex, session, widths, workers)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo))), thread_name_prefix="poster") as pool:
            results = list(pool.map(lambda job: fetcher.get(*job), todo))
    finally:
        fetcher.http.close()
    for (rk, _, _), poster in zip(todo, results):
        if poster is not None:
            found[rk] = poster
    missing = {k: n for k, n in fetcher.outcomes.items() if k != "fetched"}
    if missing:
        why = ", ".join(f"{reason} ×{n}" for reason, n in sorted(missing.items()))
        log.warning("posters: %d of %d unavailable (%s); the pages show placeholders",
                    sum(missing.values()), len(wanted), why)
    log.debug("posters: %d cached, %d fetched", len(wanted) - len(todo), fetcher.outcomes["fetched"])
    return {rk: found[rk] for rk in wanted if rk in found}


def copy_posters(posters: Iterable[PosterFile], site_dir: Path) -> list[Path]:
    """Copy each poster file to <site_dir>/images/posters/, skipping ones already there."""
    dest = Path(site_dir) / OUTPUT_SUBDIR
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for poster in posters:
        for src in poster.files.values():
            target = dest / src.name
            # Names carry a content hash, so a file of the same name and size is the same file.
            if not (target.is_file() and target.stat().st_size == src.stat().st_size):
                shutil.copyfile(src, target)
            written.append(target)
    return written
