"""The Pelican wing of render: the archive site from frozen issues."""
