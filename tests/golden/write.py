"""Write a set of golden files into their folder: only what changed, and nothing stale left behind."""

from pathlib import Path


def write_golden(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Make `folder` hold exactly `files`; return the paths whose bytes changed."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in files:
            stale.unlink()
    written = []
    for name, data in files.items():
        path = folder / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(path)
    return written
