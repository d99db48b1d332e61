"""A Pelican plugin: read issues/<slug>.issue files (JSON written by render/site.py) as articles.

Each file carries one issue's already-public data; the reader hands it to the templates as
`article.issue`, so the theme renders every value itself, escaped. Pelican's content cache
stores what this reader returns, so an unchanged file is not parsed again.
"""

from __future__ import annotations

import json

from pelican import signals
from pelican.readers import BaseReader

EXTENSION = "issue"


class IssueReader(BaseReader):
    """One issue file -> (feed HTML, metadata with the issue data under "issue")."""

    enabled = True
    file_extensions = [EXTENSION]

    def read(self, source_path):
        with open(source_path, encoding="utf-8") as fh:
            doc = json.load(fh)
        metadata = {
            "title": doc["title"],
            "slug": doc["slug"],
            "date": self.process_metadata("date", doc["date"]),
            "summary": doc["summary_html"],  # built escaped by render/site.py
            "issue": doc["issue"],
        }
        return doc["content_html"], metadata


def add_reader(readers) -> None:
    readers.reader_classes[EXTENSION] = IssueReader


def register() -> None:
    signals.readers_init.connect(add_reader)
