"""Who gets the digest: users with access and an e-mail address, plus the admin's extra addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.send.address import normalize, split_named
from pipeline.render.email.message import Recipient
from pipeline.send.optout import opted_out

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store


def digest_recipients(store: "Store", settings: "Settings") -> tuple[list[Recipient], list[str]]:
    """(recipients, skipped reason lines); deduplicated by lower-cased address, opt-outs left out."""
    out: list[Recipient] = []
    skipped: list[str] = []
    seen: dict[str, str] = {}
    optouts = opted_out(store)
    admin = normalize(settings.email.admin_email)

    def add(recipient: Recipient, who: str) -> None:
        if recipient.email in optouts:
            skipped.append(f"{who}: {recipient.email} opted out")
        elif recipient.email in seen:
            skipped.append(f"{who}: {recipient.email} already gets it as {seen[recipient.email]}")
        else:
            seen[recipient.email] = who
            out.append(recipient)

    for row in store.records("send/digest_users"):
        name = row["friendly_name"] or row["username"] or f"user {row['user_id']}"
        who = f"{name} (user {row['user_id']})"
        if not row["email"]:
            why = "a managed (home) user without an e-mail address" if row["is_home"] else "no e-mail address"
            skipped.append(f"{who}: {why}")
            continue
        email = normalize(row["email"])
        if email is None:
            skipped.append(f"{who}: {row['email']!r} is not a valid e-mail address")
            continue
        kind = "admin" if row["is_owner"] or email == admin else "user"
        add(Recipient(email=email, user_id=int(row["user_id"]), name=name, kind=kind), who)

    for value in settings.email.extra_recipients:
        display, email = split_named(value)
        who = f"extra recipient {value!r}"
        if email is None:
            skipped.append(f"{who}: not a valid e-mail address (email.extra_recipients)")
            continue
        name = display or email.split("@", 1)[0]
        add(Recipient(email=email, user_id=None, name=name, kind="admin" if email == admin else "extra"), who)
    return out, skipped
