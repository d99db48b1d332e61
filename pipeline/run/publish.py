"""Upload the built site to S3: a plan first (what would change), then only the files that changed.

A file is unchanged when the remote ETag equals its MD5, which holds for every object this module
uploads (single-part put_object). Each object also carries its MD5 in metadata, for stores whose
ETags are not MD5s. Remote files missing from the output are only deleted when asked to.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pipeline.errors import BadResponse, ConfigError, MarqueeError, RefusedToAct, Unreachable

if TYPE_CHECKING:
    from pipeline.settings import PublishSettings

log = logging.getLogger(__name__)

YEAR = "public, max-age=31536000, immutable"
LONG_LIVED = ("images/", "theme/")  # content-hashed names (images) or a version query (theme)
WORKERS = 8
SKIP_NAMES = {".DS_Store", "Thumbs.db"}
# An outbox (email.outbox_dir, once output/outbox, now outside the site) holds readers' addresses: never published.
SKIP_DIRS = {".git", "__pycache__", ".webassets-cache", "outbox"}
SKIP_SUFFIXES = (".tmp", ".eml")


def never_published(rel: str) -> bool:
    """Whether a site-relative path is one `invoke publish` skips (and `invoke serve` answers 404 for)."""
    parts = [p for p in rel.split("/") if p]
    if any(p in SKIP_DIRS for p in parts):
        return True
    return bool(parts) and (parts[-1] in SKIP_NAMES or parts[-1].endswith(SKIP_SUFFIXES))


TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".json": "application/json", ".map": "application/json",
    ".webmanifest": "application/manifest+json", ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml", ".atom": "application/atom+xml", ".rss": "application/rss+xml",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".webp": "image/webp", ".gif": "image/gif", ".avif": "image/avif", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".pdf": "application/pdf",
}
FEEDS = ("application/atom+xml", "application/rss+xml")


@dataclass(frozen=True)
class FileAction:
    """One object: its key, local file (None for a deletion), size and the headers it gets."""

    key: str
    path: Path | None
    size: int
    md5: str = ""
    content_type: str = ""
    cache_control: str = ""


@dataclass
class PublishPlan:
    """What publish did, or would do without apply."""

    target: str                      # s3://bucket/prefix
    upload: list[FileAction] = field(default_factory=list)
    unchanged: list[FileAction] = field(default_factory=list)
    delete: list[FileAction] = field(default_factory=list)
    stale: list[FileAction] = field(default_factory=list)   # remote only, kept (delete not asked)
    applied: bool = False

    def summary(self) -> str:
        """One line: 'upload 3 (12.0 KB), unchanged 40 (1.2 MB), delete 0 (0 B) to s3://… (dry run)'."""
        parts = [f"{name} {len(items)} ({_size(sum(a.size for a in items))})"
                 for name, items in (("upload", self.upload), ("unchanged", self.unchanged), ("delete", self.delete))]
        if self.stale:
            parts.append(f"stale {len(self.stale)} kept (pass delete to remove)")
        state = "done" if self.applied else "dry run, nothing changed"
        return f"{', '.join(parts)} -> {self.target} ({state})"

    def lines(self) -> list[str]:
        """The listing a dry run prints: every upload and deletion, then the summary."""
        out = [f"upload  {a.key}  {_size(a.size)}  {a.content_type}  {a.cache_control}" for a in self.upload]
        out += [f"delete  {a.key}  {_size(a.size)}" for a in self.delete]
        out += [f"stale   {a.key}  {_size(a.size)}  (kept)" for a in self.stale]
        return out + [self.summary()]


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def _is_page(action: FileAction) -> bool:
    return action.content_type.startswith("text/html") or action.content_type in FEEDS


def content_type(path: Path) -> str:
    """The Content-Type for a site file; .xml feeds are told apart by their root element."""
    name = path.name.lower()
    if name.endswith(".atom.xml"):
        return "application/atom+xml"
    if name.endswith(".rss.xml"):
        return "application/rss+xml"
    suffix = path.suffix.lower()
    if suffix == ".xml":
        with path.open("rb") as fh:
            head = fh.read(1024)
        if b"<feed" in head:
            return "application/atom+xml"
        if b"<rss" in head:
            return "application/rss+xml"
    return TYPES.get(suffix, "application/octet-stream")


def cache_control(relpath: str, ctype: str, cache_seconds: int) -> str:
    """A year for content-hashed assets; cache_seconds for pages, feeds and everything else."""
    if relpath.startswith(LONG_LIVED) and ctype not in FEEDS and not ctype.startswith("text/html"):
        return YEAR
    return f"public, max-age={cache_seconds}"


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _prefix(prefix: str) -> str:
    """'site' and '/site/' both mean keys under 'site/'; never a bare 'site' that matches 'site-old/'."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def local_files(output_dir: Path, prefix: str, cache_seconds: int) -> dict[str, FileAction]:
    """Every file of the built site as key -> FileAction."""
    found: dict[str, FileAction] = {}
    for root, dirs, files in os.walk(output_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name in SKIP_NAMES or name.endswith(SKIP_SUFFIXES):
                continue
            path = Path(root) / name
            rel = path.relative_to(output_dir).as_posix()
            ctype = content_type(path)
            found[prefix + rel] = FileAction(prefix + rel, path, path.stat().st_size, _md5(path), ctype,
                                             cache_control(rel, ctype, cache_seconds))
    return found


def _client(settings: "PublishSettings") -> Any:
    import boto3
    from botocore.config import Config

    config = Config(region_name=settings.region, connect_timeout=10, read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"})
    if settings.endpoint_url:
        # S3-compatible stores (MinIO, R2, moto) are reached by path, not by bucket subdomain, and some
        # reject the CRC32 checksums boto3 adds by default; Content-MD5 already guards each upload.
        config = config.merge(Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                                     response_checksum_validation="when_required"))
    return boto3.session.Session().client("s3", endpoint_url=settings.endpoint_url or None, config=config)


def _where(settings: "PublishSettings") -> str:
    return settings.endpoint_url or f"AWS region {settings.region}"


def _friendly(exc: Exception, settings: "PublishSettings") -> MarqueeError:
    """One line that says what to fix; never a credential."""
    from botocore.exceptions import (ClientError, ConnectionClosedError, ConnectTimeoutError,
                                     EndpointConnectionError, NoCredentialsError, PartialCredentialsError,
                                     ReadTimeoutError)

    where = _where(settings)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ConfigError("no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                           "(or AWS_PROFILE) in the environment")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)):
        return Unreachable(f"cannot reach S3 at {where}; check publish.endpoint_url and the network")
    if isinstance(exc, ReadTimeoutError):
        return Unreachable(f"S3 at {where} stopped answering; try again later")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("NoSuchBucket", "404") or (code == "" and status == 404):
            return ConfigError(f"bucket {settings.bucket!r} does not exist at {where}; check publish.bucket")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                    "InvalidClientTokenId", "UnrecognizedClientException"):
            return ConfigError(f"S3 rejected the credentials ({code}); check AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY")
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return ConfigError(f"access denied to bucket {settings.bucket!r}; the credentials need "
                               "s3:ListBucket, s3:PutObject and s3:DeleteObject on it")
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
            return ConfigError(f"bucket {settings.bucket!r} is in another region; set publish.region")
        message = " ".join(str(error.get("Message", "")).split())
        return BadResponse(f"S3 at {where} answered {code or status}: {message}".rstrip(": "))
    return BadResponse(f"S3 at {where} failed ({type(exc).__name__})")


def _remote(s3: Any, bucket: str, prefix: str) -> dict[str, tuple[str, int]]:
    """key -> (ETag without quotes, size) for every object under the prefix."""
    found: dict[str, tuple[str, int]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = (obj.get("ETag", "").strip('"'), int(obj.get("Size", 0)))
    return found


def _same(s3: Any, bucket: str, local: FileAction, etag: str, size: int) -> bool:
    if size != local.size:
        return False
    if etag == local.md5:
        return True
    if "-" in etag or len(etag) != 32:  # multipart or encrypted: the ETag is no MD5, ask the metadata
        head = s3.head_object(Bucket=bucket, Key=local.key)
        return head.get("Metadata", {}).get("md5") == local.md5
    return False


def plan(output_dir: Path, settings: "PublishSettings", s3: Any, delete: bool = False,
         force: bool = False) -> PublishPlan:
    """Compare the output with the bucket; reads only."""
    prefix = _prefix(settings.prefix)
    local = local_files(output_dir, prefix, settings.cache_seconds)
    remote = _remote(s3, settings.bucket, prefix)
    result = PublishPlan(f"s3://{settings.bucket}/{prefix}")
    for key, action in local.items():
        if not force and key in remote and _same(s3, settings.bucket, action, *remote[key]):
            result.unchanged.append(action)
        else:
            result.upload.append(action)
    gone = [FileAction(key, None, size) for key, (_, size) in sorted(remote.items()) if key not in local]
    if delete:
        result.delete = gone
    else:
        result.stale = gone
    # Assets before pages, so a page never goes live before the images it shows.
    result.upload.sort(key=lambda a: (_is_page(a), a.key))
    return result


def _put(s3: Any, bucket: str, action: FileAction) -> None:
    assert action.path is not None
    with action.path.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=action.key, Body=body, ContentType=action.content_type,
                      CacheControl=action.cache_control, ContentMD5=_b64(action.md5),
                      Metadata={"md5": action.md5})


def _b64(hex_md5: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_md5)).decode()


def _apply(s3: Any, bucket: str, result: PublishPlan, workers: int) -> None:
    def run(items: list[FileAction], fn: Callable[[FileAction], None]) -> None:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="publish") as pool:
            list(pool.map(fn, items))

    run([a for a in result.upload if not _is_page(a)], lambda a: _put(s3, bucket, a))
    run([a for a in result.upload if _is_page(a)], lambda a: _put(s3, bucket, a))
    for start in range(0, len(result.delete), 1000):  # delete_objects takes at most 1000 keys
        batch = result.delete[start:start + 1000]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": a.key} for a in batch],
                                                          "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise BadResponse(f"S3 refused to delete {len(answer['Errors'])} files "
                              f"(first: {first.get('Key')}: {first.get('Code')})")


def publish(output_dir: Path, settings: "PublishSettings", apply: bool = False, s3_client: Any = None,
            delete: bool = False, force: bool = False, workers: int = WORKERS) -> PublishPlan:
    """Plan the upload of output_dir to settings.bucket; carry it out only with apply=True.

    delete: also remove remote files under the prefix that the output no longer has.
    force: upload every file even when unchanged (e.g. after changing cache headers).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    output_dir = Path(output_dir)
    if not settings.bucket:
        raise ConfigError("publish.bucket is empty; set the S3 bucket the site is uploaded to")
    if not output_dir.is_dir():
        raise ConfigError(f"{output_dir} does not exist; build the site first")
    if not (output_dir / "index.html").is_file():
        raise RefusedToAct(f"{output_dir} has no index.html; refusing to publish what is not a built site")
    try:
        s3 = s3_client or _client(settings)
        result = plan(output_dir, settings, s3, delete=delete, force=force)
        if apply:
            _apply(s3, settings.bucket, result, workers)
            result.applied = True
    except (BotoCoreError, ClientError) as exc:
        raise _friendly(exc, settings) from None
    log.info("publish: %s", result.summary())
    return result
