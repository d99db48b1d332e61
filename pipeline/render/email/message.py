"""Shared e-mail types: who gets a message and the rendered message itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    """One addressee of a newsletter e-mail."""

    email: str  # lower-cased, validated
    user_id: int | None  # None for admin-added extra addresses
    name: str  # how to greet them (friendly name; never shown to others)
    kind: str = "user"  # "user" | "extra" | "admin"


@dataclass
class OutgoingMessage:
    """A fully rendered RFC 5322 message for one recipient, keyed for exactly-once delivery."""

    recipient: Recipient
    kind: str  # "digest" | "welcome" | "warning" | "removal" | "admin_report" | "preview"
    key: str  # idempotency key: issue_key for digests ("weekly-2026-W46"), "welcome" for welcomes
    subject: str
    mime: bytes  # the complete RFC 5322 message
    size: int  # len(mime)
