"""Compile xinyu/locale/*/LC_MESSAGES/django.po to .mo with polib (no system gettext needed)."""

from pathlib import Path

import polib

root = Path(__file__).resolve().parent.parent / "xinyu" / "locale"
for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
