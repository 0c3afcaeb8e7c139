"""The one small-cell suppression rule (xinyu.kernel.suppression), as properties: whatever
the table, no count from 1 to threshold - 1 is shown, and no hidden cell can be worked out
from a shown total (every line that adds up and has a hidden cell has at least two)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from xinyu.kernel import suppression as s
from xinyu.kernel.policy_sections import check_privacy
from xinyu.kernel.policyfile import policy_for_code

Position = tuple[int, int]

# Small counts on purpose: most tables then have several small cells in one row or column.
counts = st.integers(min_value=0, max_value=12)
bodies = st.integers(min_value=1, max_value=6).flatmap(
    lambda w: st.lists(st.lists(counts, min_size=w, max_size=w), min_size=1, max_size=7)
)
thresholds = st.integers(min_value=2, max_value=8)


def lines_of(grid: Sequence[Sequence[int]]) -> list[list[Position]]:
    """Every row and every column of a table with its totals (all of them add up)."""
    rows, cols = len(grid), len(grid[0])
    return [[(r, c) for c in range(cols)] for r in range(rows)] + [
        [(r, c) for r in range(rows)] for c in range(cols)
    ]


def assert_protected(
    grid: Sequence[Sequence[int]], hidden: set[Position], lines: list[list[Position]], t: int
) -> None:
    for r, row in enumerate(grid):
        for c, n in enumerate(row):
            if 0 < n < t:
                assert (r, c) in hidden, f"small cell {n} at {(r, c)} shown"
    for line in lines:
        if len(line) < 2:
            continue  # a lone cell adds up to nothing
        assert sum(p in hidden for p in line) != 1, f"line {line} has one hidden cell: recoverable"


@settings(max_examples=400, deadline=None)
@given(bodies, thresholds)
def test_table_with_totals_is_protected(body: list[list[int]], t: int) -> None:
    grid = s.with_totals(body)
    hidden = s.suppress_table(body, threshold=t)
    assert_protected(grid, hidden, lines_of(grid), t)
    assert all(0 <= r < len(grid) and 0 <= c < len(grid[0]) for r, c in hidden)


@settings(max_examples=400, deadline=None)
@given(bodies, thresholds)
def test_no_hidden_cell_recoverable_by_subtraction(body: list[list[int]], t: int) -> None:
    """Directly: for each line, a hidden cell is not the line's total minus the shown parts
    unless another hidden cell shares the line (then the difference is a sum of two)."""
    grid = s.with_totals(body)
    hidden = s.suppress_table(body, threshold=t)
    for line in lines_of(grid):
        secret = [p for p in line if p in hidden]
        if secret:
            assert len(secret) >= 2


@settings(max_examples=300, deadline=None)
@given(bodies, thresholds)
def test_row_groups_and_cells_hidden_elsewhere(body: list[list[int]], t: int) -> None:
    """Rows of two groups that each add up (a total and its parts, as in the screening grid),
    columns down to a total row, and a cell already hidden by another table."""
    grid = [[sum(row), *row, sum(row), *row] for row in body]
    grid.append([sum(r[c] for r in grid) for c in range(len(grid[0]))])
    w = len(body[0]) + 1
    groups = [list(range(w)), list(range(w, 2 * w))]
    already = {(len(grid) - 1, 0)}
    hidden = s.suppress_grid(grid, threshold=t, row_groups=groups, hidden=already)
    assert already <= hidden
    lines = s.additive_lines(len(grid), len(grid[0]), row_groups=groups)
    assert_protected(grid, hidden, lines, t)


@settings(max_examples=200, deadline=None)
@given(st.lists(bodies, min_size=2, max_size=3), thresholds)
def test_breakdowns_of_one_population_share_their_hidden_totals(parts: list[list[list[int]]], t: int) -> None:
    width = len(parts[0][0])
    parts = [[(row * width)[:width] for row in p] for p in parts]
    total = [sum(r[c] for r in parts[0]) for c in range(width)]
    # Every breakdown has the same total row (the same population counted another way).
    grids = [[*p[:-1], [total[c] - sum(r[c] for r in p[:-1]) for c in range(width)], total] for p in parts]
    if any(n < 0 for g in grids for row in g for n in row):
        return
    marks = s.suppress_tables(grids, threshold=t)
    last = [{c for r, c in m if r == len(g) - 1} for g, m in zip(grids, marks, strict=True)]
    assert all(x == last[0] for x in last)
    for g, m in zip(grids, marks, strict=True):
        assert_protected(g, m, s.additive_lines(len(g), width), t)


@given(bodies)
def test_primary_only_in_the_columns_asked(body: list[list[int]]) -> None:
    hidden = s.primary(body, threshold=5, columns={0})
    assert all(c == 0 for _, c in hidden)
    assert hidden == {(r, 0) for r, row in enumerate(body) if 0 < row[0] < 5}


def test_examples() -> None:
    # One small cell in a row with its total: the next smallest goes too.
    assert s.suppress_grid([[30, 3, 7, 20]], threshold=5, row_groups=[[0, 1, 2, 3]]) == {(0, 1), (0, 2)}
    # Zeros are shown and never needed as a partner while a non-zero cell is there.
    assert s.suppress_grid([[13, 3, 0, 10]], threshold=5, row_groups=[[0, 1, 2, 3]]) == {(0, 1), (0, 3)}
    # A table at school level: 2 girls in grade 4 hide their row partner, their column
    # partner and the cell that then stands alone.
    hidden = s.suppress_table([[2, 30], [20, 25]], threshold=5)
    assert (0, 0) in hidden and len(hidden) >= 4
    assert s.shown(2, (0, 0), hidden, threshold=5) == "<5"
    assert s.shown(20, (1, 0), hidden, threshold=5) == "*"
    assert s.shown(30, (0, 1), {(0, 0)}, threshold=5) == 30


def test_threshold_is_data_with_its_check() -> None:
    assert policy_for_code("default")["privacy"]["small_cell"] == 5
    assert s.small_cell("500153") == 5
    assert list(check_privacy("x", {"privacy": {"small_cell": 5}})) == []
    assert list(check_privacy("x", {"privacy": {"small_cell": 10}})) == []
    for bad in (3, 0, "5", True, None):
        assert list(check_privacy("x", {"privacy": {"small_cell": bad}})), bad
    assert list(check_privacy("x", {}))
