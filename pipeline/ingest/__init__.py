"""Ingest: the only code that reads Tautulli and Plex for data, typed into the store at one boundary."""
