"""The reader-actions pages: one button, or what happened. Plain HTML, escaped, no JavaScript, phone and dark mode."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

CSS = """
:root{color-scheme:light dark;--bg:#f6f3ee;--card:#fffdf9;--ink:#1d1a17;--muted:#5d554d;--accent:#a4460b;--line:#e2d9cc}
@media (prefers-color-scheme:dark){:root{--bg:#171412;--card:#221e1b;--ink:#f1ebe4;--muted:#b8ada1;--accent:#f0a35e;
--line:#3a332d}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);
font:17px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:32rem;margin:0 auto;padding:24px 16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:22px 20px}
.eyebrow{color:var(--muted);font-size:14px;letter-spacing:.04em;text-transform:uppercase;margin:0 0 6px}
h1{font-size:24px;line-height:1.25;margin:0 0 12px;overflow-wrap:anywhere}
p{margin:0 0 14px;overflow-wrap:anywhere}.muted{color:var(--muted);font-size:15px}
button{display:block;width:100%;min-height:48px;margin:18px 0 8px;border:0;border-radius:8px;background:var(--accent);
color:#fff;font:inherit;font-weight:700;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#1d1a17}}
button.quiet{background:transparent;color:var(--accent);border:2px solid var(--accent)}
"""


@dataclass(frozen=True)
class Page:
    """A page to render: its words are plain text here and escaped once, in render()."""

    status: int
    title: str
    lines: tuple[str, ...] = ()
    button: str = ""  # non-empty: a form that POSTs back here with the CSRF field
    choice: str = ""  # the form's "choice" value (resubscribe)
    csrf: str = ""
    quiet: bool = False  # a secondary button (resubscribe)
    note: str = ""


def render(page: Page, server: str) -> str:
    """The whole HTML document."""
    body = "".join(f"<p>{escape(line)}</p>" for line in page.lines)
    if page.button:
        body += ('<form method="post"><input type="hidden" name="csrf" value="' + escape(page.csrf, quote=True) + '">'
                 + (f'<input type="hidden" name="choice" value="{escape(page.choice, quote=True)}">'
                    if page.choice else "")
                 + f'<button type="submit"{" class=quiet" if page.quiet else ""}>{escape(page.button)}</button>'
                 + "</form>")
    if page.note:
        body += f'<p class="muted">{escape(page.note)}</p>'
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            '<meta name="robots" content="noindex,nofollow"><meta name="referrer" content="no-referrer">'
            f"<title>{escape(page.title)} · {escape(server)}</title><style>{CSS}</style></head><body><main>"
            f'<div class="card"><p class="eyebrow">{escape(server)}</p><h1>{escape(page.title)}</h1>{body}</div>'
            "</main></body></html>")


def problem(status: int, title: str, why: str) -> Page:
    """A 4xx page: what is wrong, and that nothing changed."""
    return Page(status, title, (why, "Nothing was changed."))
