"""`manage.py import_roster FILE --kind students|classes|staff --as USERNAME [--dry-run]`.

Thin wrapper over `xinyu.org.roster`: the same preview, checks, scope and audit as the
web import. Exits non-zero when the file is invalid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinyu.org import roster
from xinyu.org.models import ImportKind, User


class Command(BaseCommand):
    help = "Import students, grades/classes or staff from an .xlsx or .csv file (导入名单)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", choices=ImportKind.values, default=ImportKind.STUDENTS)
        parser.add_argument("--as", dest="username", required=True, help="importing user (工号)")
        parser.add_argument("--dry-run", action="store_true", help="preview only, write nothing")

    def handle(self, *args: Any, file: Path, kind: str, username: str, dry_run: bool, **options: Any) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            if dry_run:
                plan = roster.preview(by=user, kind=kind, filename=file.name, data=data)
            else:
                batch, plan = roster.create_batch(by=user, kind=kind, filename=file.name, data=data)
        except roster.RosterError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None
        self._print_summary(plan)
        if not plan.valid:
            for line in roster.format_errors(plan.sorted_errors()[: roster.MAX_ERRORS_LISTED]):
                self.stderr.write(line)
            more = len(plan.errors) - roster.MAX_ERRORS_LISTED
            if more > 0:
                self.stderr.write(f"另有 {more} 条错误未列出 / and {more} more")
            raise CommandError(
                f"文件有 {len(plan.errors)} 处错误，未写入任何数据 / "
                f"{len(plan.errors)} problems found; nothing has been written"
            )
        if dry_run:
            self.stdout.write("试运行，未写入任何数据 / dry run: nothing has been written")
            return
        result = roster.apply_batch(by=user, batch=batch)
        if not result.applied:
            raise CommandError("导入失败，未写入任何数据 / import failed; nothing has been written")
        self.stdout.write(self.style.SUCCESS(f"已导入 / imported (batch {batch.uid})"))

    def _print_summary(self, plan: roster.Plan) -> None:
        for notice in plan.notices:
            self.stdout.write(f"{notice.message_zh} / {notice.message_en}")
        c = plan.counts
        self.stdout.write(
            f"数据行 {plan.rows}：新增 {c['create']}，更新 {c['update']}，调班 {c['move']}，不变 {c['unchanged']} / "
            f"{plan.rows} rows: {c['create']} create, {c['update']} update, {c['move']} move, "
            f"{c['unchanged']} unchanged"
        )
