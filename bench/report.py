"""Writing a benchmark's section into docs/PERFORMANCE.md (shared by the bench scripts)."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, start: str, end: str) -> None:
    """Replace the text between the `start` and `end` markers (the section includes them),
    or append the section; create the file if it does not exist."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if start in text and end in text:
            head, rest = text.split(start, 1)
            text = head + section + rest.split(end, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "# Performance\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
