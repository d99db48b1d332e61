"""Real HTTP servers on 127.0.0.1 that stand in for Tautulli, Plex and plex.tv in demos, tests and benchmarks."""
