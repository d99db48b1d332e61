"""E-mail address checks: good enough to catch typos and junk before a provider rejects them."""

from __future__ import annotations

import re
from email.utils import parseaddr

# A pragmatic subset of RFC 5321: a dot-atom local part and a domain of LDH labels with a TLD.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalize(address: str | None) -> str | None:
    """The lower-cased address, or None when it is not a deliverable address."""
    if not address:
        return None
    address = address.strip()
    if len(address) > 254 or address.count("@") != 1 or any(c.isspace() for c in address):
        return None
    local, domain = address.rsplit("@", 1)
    try:
        # Internationalized domains travel as punycode; SES and SMTP relays both accept that.
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = domain.split(".")
    if (len(local) > 64 or not _LOCAL.match(local) or len(labels) < 2
            or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit()):
        return None
    return f"{local}@{domain}".lower()


def split_named(value: str) -> tuple[str, str | None]:
    """'Ann <ann@x.org>' or 'ann@x.org' -> (display name, normalized address or None)."""
    name, address = parseaddr(value)
    return name.strip(), normalize(address or value)
