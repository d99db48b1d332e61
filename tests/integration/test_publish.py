"""Publishing to S3 through a real moto server on loopback: dry run first, then only what changed."""

import socket

import boto3
import pytest
import requests

from pipeline.errors import ConfigError, RefusedToAct, Unreachable
from pipeline.run.publish import YEAR, publish
from pipeline.settings import PublishSettings

BUCKET = "marquee-site"

SITE = {
    "index.html": b"<!doctype html><title>Marquee</title>",
    "2026/w47/index.html": b"<!doctype html><title>Week 47</title>",
    "feeds/all.atom.xml": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>',
    "feeds/all.rss.xml": b'<?xml version="1.0"?><rss version="2.0"></rss>',
    "sitemap.xml": b'<?xml version="1.0"?><urlset></urlset>',
    "theme/css/style.css": b"body{color:#222}",
    "theme/js/app.js": b"console.log(1)",
    "theme/fonts/x.woff2": b"wOF2....",
    "images/charts/heatmap-0123456789.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "images/charts/heatmap-0123456789.png": b"\x89PNG....",
    "images/posters/1001-abc-200.jpg": b"\xff\xd8\xff....",
    "images/posters/1001-abc-200.webp": b"RIFF....WEBP",
    "favicon.ico": b"\x00\x00\x01\x00",
    "robots.txt": b"User-agent: *\n",
    "search.json": b"[]",
}
EXPECTED = {
    "index.html": ("text/html; charset=utf-8", "public, max-age=300"),
    "2026/w47/index.html": ("text/html; charset=utf-8", "public, max-age=300"),
    "feeds/all.atom.xml": ("application/atom+xml", "public, max-age=300"),
    "feeds/all.rss.xml": ("application/rss+xml", "public, max-age=300"),
    "sitemap.xml": ("application/xml", "public, max-age=300"),
    "theme/css/style.css": ("text/css; charset=utf-8", YEAR),
    "theme/js/app.js": ("text/javascript; charset=utf-8", YEAR),
    "theme/fonts/x.woff2": ("font/woff2", YEAR),
    "images/charts/heatmap-0123456789.svg": ("image/svg+xml", YEAR),
    "images/charts/heatmap-0123456789.png": ("image/png", YEAR),
    "images/posters/1001-abc-200.jpg": ("image/jpeg", YEAR),
    "images/posters/1001-abc-200.webp": ("image/webp", YEAR),
    "favicon.ico": ("image/x-icon", "public, max-age=300"),
    "robots.txt": ("text/plain; charset=utf-8", "public, max-age=300"),
    "search.json": ("application/json", "public, max-age=300"),
}


@pytest.fixture
def site(tmp_path):
    out = tmp_path / "output"
    for rel, data in SITE.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return out


@pytest.fixture
def s3(moto):
    client = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def settings(moto_url, prefix="", **kw):
    return PublishSettings(bucket=BUCKET, prefix=prefix, endpoint_url=moto_url, cache_seconds=300, **kw)


def keys(s3, prefix=""):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_dry_run_lists_everything_and_uploads_nothing(site, s3, moto):
    plan = publish(site, settings(moto))
    assert not plan.applied
    assert sorted(a.key for a in plan.upload) == sorted(SITE)
    assert plan.unchanged == [] and plan.delete == []
    assert keys(s3) == []
    lines = plan.lines()
    assert any(line.startswith("upload  index.html  ") for line in lines)
    assert lines[-1].startswith(f"upload {len(SITE)} (") and lines[-1].endswith("(dry run, nothing changed)")


def test_apply_uploads_with_content_types_and_cache_headers(site, s3, moto):
    plan = publish(site, settings(moto, prefix="/news/"), apply=True)
    assert plan.applied and len(plan.upload) == len(SITE)
    assert keys(s3) == sorted(f"news/{k}" for k in SITE)
    for rel, (ctype, cache) in EXPECTED.items():
        head = s3.head_object(Bucket=BUCKET, Key=f"news/{rel}")
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), rel
        assert s3.get_object(Bucket=BUCKET, Key=f"news/{rel}")["Body"].read() == SITE[rel]
    # Pages go last, after the assets they show.
    kinds = [a.content_type.startswith("text/html") or "+xml" in a.content_type and "svg" not in a.content_type
             for a in plan.upload]
    assert kinds == sorted(kinds)


def test_second_apply_uploads_nothing_and_one_change_uploads_one(site, s3, moto):
    publish(site, settings(moto), apply=True)
    again = publish(site, settings(moto), apply=True)
    assert again.upload == [] and len(again.unchanged) == len(SITE)
    (site / "2026/w47/index.html").write_bytes(b"<!doctype html><title>Week 47, fixed</title>")
    third = publish(site, settings(moto), apply=True)
    assert [a.key for a in third.upload] == ["2026/w47/index.html"]
    assert s3.get_object(Bucket=BUCKET, Key="2026/w47/index.html")["Body"].read().endswith(b"fixed</title>")
    assert publish(site, settings(moto)).upload == []


def test_force_uploads_everything(site, s3, moto):
    publish(site, settings(moto), apply=True)
    assert len(publish(site, settings(moto), force=True).upload) == len(SITE)


def test_stale_files_are_only_deleted_when_asked(site, s3, moto):
    s3.put_object(Bucket=BUCKET, Key="site/old-issue/index.html", Body=b"old")
    s3.put_object(Bucket=BUCKET, Key="site-old/keep.html", Body=b"not under the prefix")
    s3.put_object(Bucket=BUCKET, Key="elsewhere.txt", Body=b"not ours")
    publish(site, settings(moto, prefix="site"), apply=True)
    kept = publish(site, settings(moto, prefix="site"), apply=True)
    assert [a.key for a in kept.stale] == ["site/old-issue/index.html"] and kept.delete == []
    assert "site/old-issue/index.html" in keys(s3)
    dry = publish(site, settings(moto, prefix="site"), delete=True)
    assert [a.key for a in dry.delete] == ["site/old-issue/index.html"]
    assert "site/old-issue/index.html" in keys(s3)
    done = publish(site, settings(moto, prefix="site"), apply=True, delete=True)
    assert [a.key for a in done.delete] == ["site/old-issue/index.html"]
    assert keys(s3) == sorted(["elsewhere.txt", "site-old/keep.html"] + [f"site/{k}" for k in SITE])


def test_missing_bucket_setting_and_missing_bucket(site, s3, moto):
    with pytest.raises(ConfigError, match=r"^publish.bucket is empty"):
        publish(site, PublishSettings(endpoint_url=moto))
    with pytest.raises(ConfigError, match=r"^bucket 'no-such-bucket' does not exist at http://127\.0\.0\.1:"):
        publish(site, PublishSettings(bucket="no-such-bucket", endpoint_url=moto))


def test_bad_credentials_are_one_line_without_the_secret(site, s3, moto, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrongSecretValue/abcdefghijklmnop")
    requests.post(f"{moto}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    with pytest.raises(ConfigError) as err:
        publish(site, settings(moto))
    message = str(err.value)
    assert message.startswith("S3 rejected the credentials (InvalidAccessKeyId)") and "\n" not in message
    assert "wrongSecretValue" not in message and "AKIAWRONG" not in message


def test_no_credentials_at_all(site, moto, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(ConfigError, match="no AWS credentials found"):
        publish(site, settings(moto))


def test_unreachable_endpoint(site, aws_env):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Unreachable, match=rf"^cannot reach S3 at http://127\.0\.0\.1:{port}; check publish"):
        publish(site, PublishSettings(bucket=BUCKET, endpoint_url=f"http://127.0.0.1:{port}"))


def test_not_a_built_site_is_refused(tmp_path, moto):
    with pytest.raises(ConfigError, match="does not exist; build the site first"):
        publish(tmp_path / "nope", settings(moto))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RefusedToAct, match="no index.html"):
        publish(tmp_path / "empty", settings(moto), apply=True, delete=True)


def test_multipart_etags_fall_back_to_the_md5_in_metadata(site, s3, moto):
    """Objects whose ETag is no MD5 (multipart, some encryption) are compared by their metadata."""
    import hashlib

    def multipart(key, body, metadata):
        up = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata=metadata)
        part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up["UploadId"], PartNumber=1, Body=body)
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})

    multipart("robots.txt", SITE["robots.txt"], {"md5": hashlib.md5(SITE["robots.txt"]).hexdigest()})
    multipart("search.json", SITE["search.json"], {})
    assert "-" in s3.head_object(Bucket=BUCKET, Key="robots.txt")["ETag"]
    plan = publish(site, settings(moto))
    assert [a.key for a in plan.unchanged] == ["robots.txt"]
    assert "search.json" in [a.key for a in plan.upload]
