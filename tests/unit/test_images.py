"""Poster resizing, naming and the cache, without a server (the loopback tests are in integration/)."""

import io
import logging

import pytest
from PIL import Image

from pipeline.errors import ConfigError
import pipeline.ingest.posters as images
from pipeline.settings import PlexSettings

TOKEN = "unitTestToken-123456"


def jpeg(size=(300, 450), colour=(200, 30, 60), **info) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=95, **info)
    return buf.getvalue()


def test_resize_keeps_aspect_and_gives_fixed_widths():
    out = images.resize(jpeg((300, 450)))
    assert {w: Image.open(io.BytesIO(b)).size for w, b in out.items()} == {200: (200, 300), 400: (400, 600)}
    wide = images.resize(jpeg((1000, 562)), widths=(200,))
    assert Image.open(io.BytesIO(wide[200])).size == (200, 112)


def test_resize_is_deterministic_and_strips_metadata():
    src = jpeg(comment=b"secret comment", exif=Image.Exif().tobytes())
    a, b = images.resize(src), images.resize(src)
    assert a == b
    for data in a.values():
        assert b"secret comment" not in data
        assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_resize_handles_png_with_alpha_and_palette_images():
    for mode in ("RGBA", "P", "L", "CMYK"):
        buf = io.BytesIO()
        Image.new(mode, (100, 150)).save(buf, "PNG" if mode != "CMYK" else "JPEG")
        assert Image.open(io.BytesIO(images.resize(buf.getvalue())[200])).mode == "RGB"


def test_names_change_with_the_thumb_and_never_hold_the_token_or_url():
    a = images.poster_name(1001, "/library/metadata/1001/thumb/1700000000", 200)
    b = images.poster_name(1001, "/library/metadata/1001/thumb/1700000001", 200)
    assert a != b and a.startswith("1001-") and a.endswith("-200.jpg")
    assert a == images.poster_name(1001, "/library/metadata/1001/thumb/1700000000", 200)
    assert "library" not in a and TOKEN not in a


def test_cache_hit_needs_no_server(tmp_path, caplog):
    """Plex is configured but nothing listens on the port: the cached poster is used all the same."""
    thumb = "/library/metadata/7/thumb/1"
    for width, data in images.resize(jpeg()).items():
        (tmp_path / images.poster_name(7, thumb, width)).write_bytes(data)
    plex = PlexSettings(url="http://127.0.0.1:9", token=TOKEN)
    with caplog.at_level(logging.WARNING):
        got = images.fetch_posters([{"rating_key": 7, "thumb": thumb}], plex, tmp_path)
    assert list(got) == [7]
    assert (got[7].width, got[7].height) == (200, 300)
    assert got[7].href(400) == f"images/posters/{images.poster_name(7, thumb, 400)}"
    assert caplog.records == []


def test_unconfigured_plex_and_odd_thumbs_give_no_poster_without_a_crash(tmp_path, caplog):
    items = [{"rating_key": 1, "thumb": "/library/metadata/1/thumb/2"}, {"rating_key": 2, "thumb": None},
             {"rating_key": 3, "thumb": "https://elsewhere.example/poster.jpg"}, {"rating_key": 4, "thumb": "//x/y"}]
    with caplog.at_level(logging.WARNING):
        assert images.fetch_posters(items, PlexSettings(), tmp_path) == {}
    assert [r.getMessage() for r in caplog.records] == [
        "posters: 1 not cached and plex.url / PLEX_TOKEN not set; the pages show placeholders"]


def test_unwritable_cache_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="poster cache"):
        images.fetch_posters([], PlexSettings(), blocker / "posters")


def test_copy_posters_puts_files_under_images_posters(tmp_path):
    thumb = "/library/metadata/7/thumb/1"
    cache = tmp_path / "cache"
    cache.mkdir()
    for width, data in images.resize(jpeg()).items():
        (cache / images.poster_name(7, thumb, width)).write_bytes(data)
    poster = images.fetch_posters([{"rating_key": 7, "thumb": thumb}], PlexSettings(), cache)[7]
    site = tmp_path / "output"
    written = images.copy_posters([poster], site)
    assert sorted(p.relative_to(site).as_posix() for p in written) == sorted(poster.href(w) for w in images.WIDTHS)
    assert all(p.read_bytes() == poster.files[int(p.stem.rsplit("-", 1)[1])].read_bytes() for p in written)
    assert images.copy_posters([poster], site) == written  # a second copy changes nothing
