"""What an import would do (or did): the `Plan` a preview returns and a batch stores, with its
row errors, notices, counts and samples. Each kind's module fills one (`students`, `classes`,
`staff`); `plan` runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Notice, RowError

MAX_ERRORS_LISTED = 200  # row errors kept in a batch summary; the rest are counted
MAX_SAMPLES = 100  # creates / updates / moves listed in a preview


@dataclass
class Plan:
    """What an import would do (or did). `ops` holds the write set for `apply_batch`."""

    kind: str
    filename: str = ""
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"create": 0, "update": 0, "move": 0, "unchanged": 0}
    )
    samples: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"create": [], "update": [], "move": []}
    )
    extra: dict[str, int] = field(default_factory=dict)
    ops: Any = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def changes(self) -> int:
        return self.counts["create"] + self.counts["update"] + self.counts["move"]

    def error(self, row: int, column: str, zh: str, en: str) -> None:
        self.errors.append(RowError(row, column, zh, en))

    def note(self, what: str, entry: dict[str, Any] | None = None) -> None:
        self.counts[what] += 1
        if entry is not None and len(self.samples[what]) < MAX_SAMPLES:
            self.samples[what].append(entry)

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: e.row)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary stored on the batch and shown by the preview page."""
        errors = self.sorted_errors()
        return {
            "kind": self.kind,
            "filename": self.filename,
            "rows": self.rows,
            "valid": self.valid,
            "counts": dict(self.counts),
            "extra": dict(self.extra),
            "samples": self.samples,
            "errors": [e.as_dict() for e in errors[:MAX_ERRORS_LISTED]],
            "error_count": len(errors),
            "notices": [{"message_zh": n.message_zh, "message_en": n.message_en} for n in self.notices],
        }
