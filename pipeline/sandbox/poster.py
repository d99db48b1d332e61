"""Deterministic poster JPEGs for the Plex sandbox's thumb route."""

from __future__ import annotations

import hashlib
import io


def poster(rating_key: int, title: str, size: tuple[int, int] = (200, 300)) -> bytes:
    """A deterministic JPEG poster: a colour from the rating key with the title written on it."""
    from PIL import Image, ImageDraw, ImageFont

    digest = hashlib.sha1(str(rating_key).encode()).digest()
    colour = tuple(64 + b % 160 for b in digest[:3])
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=18)
    except (TypeError, ImportError, OSError):  # no FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    words, lines, line = title.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > 16:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    y = 20
    for text in lines[:8]:
        try:
            draw.text((12, y), text, fill=(255, 255, 255), font=font)
        except UnicodeError:  # the bitmap font knows Latin-1 only
            draw.text((12, y), text.encode("latin-1", "replace").decode("latin-1"), fill=(255, 255, 255), font=font)
        y += 24
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()
