"""The messages that acting wants sent: rendered here, delivered through send, recorded in the ledger."""
