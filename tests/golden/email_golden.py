"""Golden files for the digest e-mail: one reader's HTML, text and headers.

Built from tests/fixtures/email_issue.py with a fixed clock, inline images and a public site URL.
Content-IDs carry a hash of the image bytes (which a new Pillow or vl-convert may change), so
they are numbered in order of appearance before comparing. Regenerate only on purpose, and
review the diff:

    python -m tests.golden.email_golden        (update_golden() in this module)
"""

from __future__ import annotations

import re
import tempfile
from email import policy
from email.parser import BytesParser
from pathlib import Path
from tests.golden.write import write_golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "email"
HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
           "MIME-Version", "Content-Type")


def normalise(text: str) -> str:
    """Number the cid: references in order of appearance; CRLF to LF."""
    names: dict[str, str] = {}
    text = re.sub(r"cid:([^\"'\s>]+)", lambda m: "cid:" + names.setdefault(m.group(1), f"image-{len(names) + 1}"),
                  text)
    return text.replace("\r\n", "\n")


def build_golden(workdir: Path) -> dict[str, bytes]:
    """Render the fixture digest for Alice; return {golden file name: bytes}."""
    from pipeline.clock import FixedClock
    from pipeline.render.email.notice import DigestRenderer, EmailImages
    from tests.fixtures import email_issue as fx

    workdir = Path(workdir)
    snap = fx.snapshot()
    images = EmailImages(fx.draw_posters(workdir / "posters", snap), fx.render_charts(workdir / "charts", snap))
    settings = fx.settings(**{"site.siteurl": "https://news.example.org", "email.images": "inline",
                              "email.unsubscribe_url": "https://news.example.org/unsubscribe"})
    out = DigestRenderer(snap, settings, "issues/2026-w46/", images, clock=FixedClock(fx.NOW)).render(
        fx.recipient(fx.ALICE))
    msg = BytesParser(policy=policy.default).parsebytes(out.mime)
    head = "".join(f"{name}: {msg[name]}\n" for name in HEADERS if msg[name] is not None)
    return {
        "digest.html": normalise(msg.get_body(("html",)).get_content()).encode("utf-8"),
        "digest.txt": normalise(msg.get_body(("plain",)).get_content()).encode("utf-8"),
        "digest.headers": head.encode("utf-8"),
    }


def update_golden() -> list[Path]:
    """Re-render the fixture digest and overwrite tests/golden/email/*; returns the files written."""
    with tempfile.TemporaryDirectory(prefix="marquee-email-golden-") as tmp:
        files = build_golden(Path(tmp))
    return write_golden(GOLDEN, files)


if __name__ == "__main__":
    for path in update_golden():
        print(f"updated {path.relative_to(ROOT)}")
