"""The one refusal error of every service."""

from __future__ import annotations

from django.utils.translation import get_language


class ServiceError(Exception):
    """A refused change, with a message naming what is wrong and where, in Chinese and
    English, and the form field at fault (empty when the whole request is refused).

    Raised before anything is written, or inside the service's transaction so that nothing
    is kept. Views show `message` (the active language) or `str(error)` (both)."""

    def __init__(self, zh: str, en: str = "", *, field: str = "") -> None:
        self.zh, self.en, self.field = zh, en, field
        super().__init__(f"{zh} / {en}" if en else zh)

    @property
    def message(self) -> str:
        """The message in the active language (Chinese unless English is active)."""
        if self.en and (get_language() or "").startswith("en"):
            return self.en
        return self.zh

    # Older names of the two halves, kept for readability where both are shown.
    @property
    def message_zh(self) -> str:
        return self.zh

    @property
    def message_en(self) -> str:
        return self.en or self.zh
