"""ORM queries compiled once per process and run again with new values.

The student's answering path runs the same two lookups on every request (the invitation
by its code, the answers given so far). Django builds and compiles a queryset anew each
time, and for the invitation lookup (a join, thirty columns) that compilation was about
half the server time of a request. A `Prepared` query is written with the ORM as usual,
compiled the first time it runs on a database alias, and from then on only executed:
the SQL text, the positions of its parameters, the column converters and the model
populators are kept. Rows become model instances (or tuples) exactly as the ORM makes
them (`from_db`, select_related caches, database converters).

Only for parameters that the database takes as they are (str, int): each one is given as
a marker value when the query is built, and must appear once among the compiled params.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

T = TypeVar("T", bound=Model)

# Markers for the parameters, unlikely to equal any constant of a query.
STR = "\x00prepared-str-{}"
INT = -8_070_450_532_247_928_832  # plus the parameter's position


def str_marker(n: int = 0) -> str:
    return STR.format(n)


def int_marker(n: int = 0) -> int:
    return INT + n


@dataclass
class _Plan:
    sql: str
    params: list[Any]
    slots: list[int]
    converters: list[tuple[int, list[Any], Any]]
    # For model rows: (model class, init_list, start, end, related populators); None for tuples.
    model: tuple[type[Model], list[str], int, int, list[Any]] | None


class Prepared(Generic[T]):
    """`build(*markers)` returns the queryset; `rows(*values)` or `objects(*values)` run it."""

    def __init__(self, build: Callable[..., QuerySet[T, Any]], markers: Sequence[Any]) -> None:
        self.build = build
        self.markers = list(markers)
        self._plans: dict[str, _Plan] = {}

    def _plan(self, alias: str) -> _Plan:
        plan = self._plans.get(alias)
        if plan is not None:
            return plan
        queryset = self.build(*self.markers)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = []
        for marker in self.markers:
            found = [i for i, p in enumerate(params) if type(p) is type(marker) and p == marker]
            if len(found) != 1:
                raise ValueError(f"marker {marker!r} appears {len(found)} times in the compiled query")
            slots.append(found[0])
        selected = [s[0] for s in compiler.select[: compiler.col_count]]
        converters = [
            (pos, convs, expression) for pos, (convs, expression) in compiler.get_converters(selected).items()
        ]
        model = None
        if compiler.klass_info is not None and queryset._iterable_class.__name__ == "ModelIterable":
            select_fields = compiler.klass_info["select_fields"]
            start, end = select_fields[0], select_fields[-1] + 1
            init_list = [s[0].target.attname for s in compiler.select[start:end]]
            # (django-stubs describe a later Django, whose populators take a fetch mode)
            populators = get_related_populators(compiler.klass_info, compiler.select, alias)  # type: ignore[call-arg]
            model = (compiler.klass_info["model"], init_list, start, end, populators)
        plan = _Plan(sql, params, slots, converters, model)
        self._plans[alias] = plan
        return plan

    def rows(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[list[Any]]:
        """The rows, with the database converters applied (what values_list gives)."""
        plan = self._plan(using)
        params = list(plan.params)
        for slot, value in zip(plan.slots, values, strict=True):
            params[slot] = value
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        if plan.converters:
            for row in rows:
                for pos, convs, expression in plan.converters:
                    value = row[pos]
                    for convert in convs:
                        value = convert(value, expression, connection)
                    row[pos] = value
        return rows

    def objects(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[T]:
        """Model instances with their select_related objects, as the queryset would give."""
        plan = self._plan(using)
        if plan.model is None:
            raise TypeError("this prepared query does not select model instances")
        model_cls, init_list, start, end, populators = plan.model
        out: list[T] = []
        for row in self.rows(*values, using=using):
            obj: T = model_cls.from_db(using, init_list, row[start:end])  # type: ignore[assignment]
            for populator in populators:
                populator.populate(row, obj)
            out.append(obj)
        return out
