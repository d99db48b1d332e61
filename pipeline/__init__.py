"""Marquee: a newsletter, archive and housekeeping pipeline for a Plex server."""

__version__ = "0.1.0"
