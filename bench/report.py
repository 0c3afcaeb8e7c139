"""What the bench scripts share: writing a section of docs/PERFORMANCE.md, the machine and commit
measured, and the simulated students' answers (bench_screening and bench_answer alike)."""

from __future__ import annotations

import random
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


def machine() -> str:
    """The machine a bench ran on: platform, CPUs and model, Python and SQLite versions."""
    import os
    import platform
    import sqlite3
    import subprocess

    model = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), ""
        )
    except OSError:
        pass
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs{', ' + model if model else ''}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def commit(root: Path) -> str:
    """The code measured: BENCH_COMMIT for a run from an exported tree, otherwise the checkout's
    short commit (and whether the tree had changes), or a snapshot's COMMIT file."""
    import os
    import subprocess

    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return sha + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        marker = root / "COMMIT"  # a snapshot made with `git archive` carries its commit in a file
        return marker.read_text(encoding="utf-8").strip() if marker.exists() else "unknown"


def answer_set(rng: random.Random) -> dict[str, dict[int, int]]:
    """One student's PHQ-9 + GAD-7 answers. Most students report little; a latent severity
    (70 % low, 22 % medium, 8 % high) sets how often an item is endorsed, and item 9 is
    endorsed about a third as often as the others (≈7 % of students answer it ≥ 1)."""
    r = rng.random()
    p = 0.12 if r < 0.70 else 0.40 if r < 0.92 else 0.75

    def value(pp: float) -> int:
        if rng.random() >= pp:
            return 0
        x = rng.random()
        return 1 if x < 0.55 else 2 if x < 0.82 else 3

    return {
        "PHQ9": {i: value(p * (0.3 if i == 9 else 1.0)) for i in range(1, 10)},
        "GAD7": {i: value(p) for i in range(1, 8)},
    }
