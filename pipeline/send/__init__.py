"""Deliver rendered e-mails exactly once per (message key, recipient)."""
