"""Small-cell suppression: the one rule of every aggregate a person reads (issue 11 item 7).

A count from 1 to `threshold - 1` is never shown (primary suppression). A line of cells that
adds up — a row with its total, a column down to the total row, a total and its parts — with
exactly one hidden cell would give that cell back by subtraction, so the smallest non-zero
visible cell of that line is hidden too (complementary suppression), over every line, until no
line has exactly one hidden cell. Zeros are shown: they disclose nobody.

The threshold is data: `[privacy] small_cell` in the district policy files (default 5; a
district may raise it, never lower it: check xinyu.E050 in `kernel/policy_sections.py`).

    hidden = suppress_table(body, threshold=small_cell(code))   # body plus totals it adds
    hidden = suppress(grid, lines=additive_lines(...), threshold=t)  # the general form

Pure functions over lists of ints; positions are (row, column) of the grid given.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

Position = tuple[int, int]
Grid = Sequence[Sequence[int]]

DEFAULT_SMALL_CELL = 5


def small_cell(district_code: str = "") -> int:
    """The district's threshold: counts under it are hidden (policies, `[privacy] small_cell`)."""
    from .policyfile import policy_for_code

    value = policy_for_code(district_code or "default").get("privacy", {}).get("small_cell")
    return value if isinstance(value, int) and value >= DEFAULT_SMALL_CELL else DEFAULT_SMALL_CELL


def primary(grid: Grid, *, threshold: int, columns: Collection[int] | None = None) -> set[Position]:
    """The counts from 1 to threshold - 1 (in `columns` only, when given)."""
    return {
        (r, c)
        for r, row in enumerate(grid)
        for c, n in enumerate(row)
        if 0 < n < threshold and (columns is None or c in columns)
    }


def complete(grid: Grid, *, lines: Iterable[Sequence[Position]], hidden: Iterable[Position]) -> set[Position]:
    """`hidden` plus the complementary cells: until no line has exactly one hidden cell, hide
    that line's smallest non-zero visible cell (or, if every other cell is zero, the first
    visible one, so that even a hidden zero is not given away)."""
    out = set(hidden)
    todo = [list(line) for line in lines if len(line) > 1]
    changed = True
    while changed:
        changed = False
        for line in todo:
            if sum(p in out for p in line) != 1:
                continue
            visible = [p for p in line if p not in out]
            nonzero = [p for p in visible if grid[p[0]][p[1]] > 0]
            if nonzero or visible:
                out.add(min(nonzero, key=lambda p: grid[p[0]][p[1]]) if nonzero else visible[0])
                changed = True
    return out


def additive_lines(
    n_rows: int,
    n_cols: int,
    *,
    row_groups: Sequence[Sequence[int]] | None = None,
    column_lines: bool = True,
) -> list[list[Position]]:
    """The lines of a grid that add up: each row's `row_groups` (a total and its parts; the
    whole row when None) and, when `column_lines`, each column (its last row being the total)."""
    groups = [list(range(n_cols))] if row_groups is None else [list(g) for g in row_groups]
    lines = [[(r, c) for c in group] for r in range(n_rows) for group in groups]
    if column_lines and n_rows > 1:
        lines += [[(r, c) for r in range(n_rows)] for c in range(n_cols)]
    return lines


def suppress(
    grid: Grid,
    *,
    threshold: int,
    lines: Iterable[Sequence[Position]],
    hidden: Iterable[Position] = (),
    columns: Collection[int] | None = None,
) -> set[Position]:
    """The cells of `grid` to hide: primary (in `columns`, or all) plus `hidden` (cells
    already hidden elsewhere), completed over `lines`."""
    return complete(
        grid, lines=lines, hidden=primary(grid, threshold=threshold, columns=columns) | set(hidden)
    )


def suppress_grid(
    grid: Grid,
    *,
    threshold: int,
    row_groups: Sequence[Sequence[int]] | None = None,
    column_lines: bool = True,
    hidden: Iterable[Position] = (),
    columns: Collection[int] | None = None,
) -> set[Position]:
    """`suppress` over the grid's `additive_lines`."""
    width = len(grid[0]) if grid else 0
    lines = additive_lines(len(grid), width, row_groups=row_groups, column_lines=column_lines)
    return suppress(grid, threshold=threshold, lines=lines, hidden=hidden, columns=columns)


def suppress_tables(
    grids: Sequence[Grid], *, threshold: int, row_groups: Sequence[Sequence[int]] | None = None
) -> list[set[Position]]:
    """`suppress_grid` for several breakdowns of one population (by grade, by sex, …): their
    last rows are the same total, so a total cell hidden in one is hidden in all of them."""
    shared: set[int] = set()
    while True:
        marks = [
            suppress_grid(
                g, threshold=threshold, row_groups=row_groups, hidden={(len(g) - 1, c) for c in shared}
            )
            for g in grids
        ]
        found = {c for g, m in zip(grids, marks, strict=True) for r, c in m if r == len(g) - 1}
        if found == shared:
            return marks
        shared = found


def with_totals(body: Grid) -> list[list[int]]:
    """The body with a total column on the right and a total row below (the grand total in
    the corner)."""
    rows = [[*row, sum(row)] for row in body]
    width = len(rows[0]) if rows else 1
    rows.append([sum(r[c] for r in rows) for c in range(width)])
    return rows


def suppress_table(body: Grid, *, threshold: int) -> set[Position]:
    """The cells to hide of `with_totals(body)`: rows × columns plus their totals."""
    return suppress_grid(with_totals(body), threshold=threshold)


def shown(value: object, position: Position, hidden: Collection[Position], *, threshold: int) -> object:
    """What a reader sees in a cell: the value, or `<threshold` (a small count) or `*` (hidden
    to protect one)."""
    if position not in hidden:
        return value
    return f"<{threshold}" if isinstance(value, int) and 0 < value < threshold else "*"
