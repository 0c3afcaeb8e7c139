"""Screening aggregates (SPEC §2–§3) for the people who may see counts, never individuals:
participation and follow-up tiers by school, grade, gender, key population and school year;
bands per instrument only for the psych teachers of the school.

Everything is counted with a few GROUP BY queries on `Invitation`'s denormalised columns,
read from covering indexes: each gives the number of invitations per group and state
(consent, progress, needs re-test, tier), and `_Tally` puts each state's count into the
columns it counts in. Withdrawn consent counts as "not participating" and never as a result.
Second-stage assignments are not counted. At every level (one school as well as the
district) and for every viewer, counts under the district's threshold (`[privacy] small_cell`,
5) show as "<5", and `suppress` (xinyu.kernel.suppression) hides further cells so that no
hidden count can be worked out from totals (issue 11 item 7).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from django.db.models import Count
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.kernel import suppression
from xinyu.kernel.labels import kind_label
from xinyu.kernel.suppression import DEFAULT_SMALL_CELL
from xinyu.org.models import GRADE_NAMES, Gender, KeyPopulation, School, StudentFlag, User
from xinyu.screening import access as screening_access

from .instruments import get_instrument, localized
from .models import Campaign, Consent, Invitation, Progress, Result
from .services import screening_policy

Position = tuple[int, int]

# Columns of every count grid: the participation group (invited = given + not participating
# + pending) and the result group (completed = one column per tier + needs re-test + not yet
# scored). Both groups add up along a row; rows add up to the last (total) row.
INVITED, GIVEN, NOT_PARTICIPATING, PENDING, COMPLETED = range(5)
FIRST_TIER = 5

TIER_COLOURS = ("#8cc7b5", "#f2c14e", "#e8833a", "#c0392b", "#7b2d26")
RETEST_COLOUR = "#9aa5ab"
UNSCORED_COLOUR = "#d5dbde"


def suppress(
    grid: Sequence[Sequence[int]],
    *,
    row_groups: Sequence[Sequence[int]],
    column_lines: bool = True,
    hidden: Iterable[Position] = (),
    threshold: int = DEFAULT_SMALL_CELL,
) -> set[Position]:
    """The cells of `grid` to hide (xinyu.kernel.suppression, the one rule): counts from 1 to
    threshold - 1, then their partners in each line that adds up — the columns of one row
    group (a total and its parts) and, when `column_lines`, each column down to its total row."""
    return suppression.suppress_grid(
        grid, threshold=threshold, row_groups=row_groups, column_lines=column_lines, hidden=hidden
    )


def suppress_tables(
    grids: Sequence[Sequence[Sequence[int]]],
    *,
    row_groups: Sequence[Sequence[int]],
    threshold: int = DEFAULT_SMALL_CELL,
) -> list[set[Position]]:
    """`suppress` for several breakdowns of one population: their last rows are the same
    total, so a total cell hidden in one table is hidden in all of them."""
    return suppression.suppress_tables(grids, threshold=threshold, row_groups=row_groups)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    share_of: str = ""  # the key of the column this one is a share of (its rate's denominator)
    colour: str = ""


@dataclass(frozen=True)
class Cell:
    count: int | None  # None when hidden: the number never leaves this module
    rate: float | None = None  # percent of `Column.share_of`; None when it could reveal a hidden count
    small: bool = False  # hidden because it is under the threshold (else hidden to protect one that is)
    limit: int = DEFAULT_SMALL_CELL  # the threshold, for the "<5" shown

    @property
    def hidden(self) -> bool:
        return self.count is None

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        return f"<{self.limit}" if self.small else "*"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    key: str  # "school" | "grade" | "gender" | "key_population" | "year" | "band:<instrument>"
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row | None = None

    def pick(self, keys: Iterable[str]) -> Table:
        """The same table with only the named columns (e.g. the result columns of a year)."""
        wanted = set(keys)
        idx = [i for i, c in enumerate(self.columns) if c.key in wanted]

        def cut(row: Row) -> Row:
            return Row(row.key, row.label, tuple(row.cells[i] for i in idx))

        return Table(
            self.key,
            self.title,
            tuple(self.columns[i] for i in idx),
            tuple(cut(r) for r in self.rows),
            cut(self.total) if self.total else None,
        )


@dataclass(frozen=True)
class Summary:
    campaign: Campaign
    schools: tuple[School, ...]  # the schools counted
    school: School | None  # the one school drilled into
    suppressed: bool  # some cell is hidden (small, or protecting a small one)
    several_schools: bool  # the user's aggregates span more than one school
    columns: tuple[Column, ...]
    overall: Row
    breakdowns: tuple[Table, ...]  # by school (several schools only), grade, gender, key population
    years: Table
    bands: tuple[Table, ...]  # one per instrument; psych teachers of the school only

    @property
    def overall_table(self) -> Table:
        return Table("overall", _("All"), self.columns, (self.overall,))

    @property
    def year_results(self) -> Table:
        """The years compared by their results (participation columns left out)."""
        return self.years.pick(c.key for c in self.columns[COMPLETED:])

    def without(self, key: str) -> Summary:
        """The summary without one (empty) column."""
        keep = [c.key for c in self.columns if c.key != key]
        overall = self.overall_table.pick(keep)
        return replace(
            self,
            columns=overall.columns,
            overall=overall.rows[0],
            breakdowns=tuple(t.pick(keep) for t in self.breakdowns),
            years=self.years.pick(keep),
        )

    @property
    def row_count(self) -> int:
        """The rows of counts an export of the summary holds (for its audit row)."""
        tables = (self.overall_table, *self.breakdowns, self.year_results, *self.bands)
        return sum(len(t.rows) + (1 if t.total else 0) for t in tables)

    def breakdown(self, key: str) -> Table | None:
        return next((t for t in self.breakdowns if t.key == key), None)

    def charts(self) -> dict[str, Any]:
        """Shares of each result per grade and per school year, for the charts (hidden: null)."""
        grade = self.breakdown("grade")

        def series(table: Table | None) -> dict[str, Any]:
            rows = table.rows if table else ()
            parts = [(i, c) for i, c in enumerate(self.columns) if c.share_of == "completed"]
            return {
                "categories": [r.label for r in rows],
                "series": [
                    {"name": c.label, "colour": c.colour, "data": [r.cells[i].rate for r in rows]}
                    for i, c in parts
                    if any(r.cells[i].count != 0 for r in rows)
                ],
            }

        return {"grade": series(grade), "years": series(self.years)}


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _columns(campaign: Campaign) -> tuple[Column, ...]:
    tiers = sorted(screening_policy(campaign.district.code).tiers, key=lambda t: t.rank)
    lang = _lang()
    return (
        Column("invited", _("Invited")),
        Column("given", _("Consent given"), "invited"),
        Column("not_participating", _("Not participating"), "invited"),
        Column("pending", _("Awaiting consent"), "invited"),
        Column("completed", _("Completed"), "given"),
        *(
            Column(
                f"tier:{t.code}",
                localized(t.label, lang),
                "completed",
                TIER_COLOURS[min(i, len(TIER_COLOURS) - 1)],
            )
            for i, t in enumerate(tiers)
        ),
        Column("retest", _("Needs re-test"), "completed", RETEST_COLOUR),
        Column("unscored", _("Awaiting scoring"), "completed", UNSCORED_COLOUR),
    )


# An invitation's state, as counted: consent, progress, needs re-test, tier.
STATE = ("consent", "progress", "needs_retest", "tier")
State = tuple[str, str, bool, str]


class _Tally:
    """Counts per key (a school, a grade, a year, …) and column, from counts per key and
    state. Each distinct state is placed in its columns once (`_placed`): withdrawn consent
    is "not participating" and never a result; a flagged protocol is "needs re-test", never
    a tier."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.width = len(columns)
        self.index = {c.key: i for i, c in enumerate(columns)}
        self.tiers = {c.key.removeprefix("tier:") for c in columns if c.key.startswith("tier:")}
        self._where: dict[State, tuple[int, ...]] = {}
        self.counts: dict[Any, Counter[State]] = defaultdict(Counter)

    def add(self, key: Any, state: State, n: int) -> None:
        self.counts[key][state] += n

    def _placed(self, state: State) -> tuple[int, ...]:
        found = self._where.get(state)
        if found is None:
            consent, progress, retest, tier = state
            keys = ["invited"]
            if consent == Consent.GIVEN:
                keys.append("given")
            elif consent in (Consent.DECLINED, Consent.WITHDRAWN):
                keys.append("not_participating")
            elif consent == Consent.PENDING:
                keys.append("pending")
            if consent == Consent.GIVEN and progress == Progress.COMPLETED:
                keys.append("completed")
                if retest:
                    keys.append("retest")
                else:
                    keys.append(f"tier:{tier}" if tier in self.tiers else "unscored")
            found = self._where[state] = tuple(self.index[k] for k in keys)
        return found

    def vector(self, key: Any) -> list[int]:
        """The counts of `key` in column order (zeros for a key never added)."""
        out = [0] * self.width
        for state, n in self.counts.get(key, {}).items():
            for i in self._placed(state):
                out[i] += n
        return out

    def __iter__(self) -> Iterator[Any]:
        """The keys counted so far."""
        return iter(self.counts)


def _state(consent: str, progress: str, retest: Any, tier: str) -> State:
    return (consent, progress, bool(retest), tier)


def _row(
    key: str,
    label: str,
    counts: Sequence[int],
    hidden: set[int],
    columns: Sequence[Column],
    threshold: int = DEFAULT_SMALL_CELL,
) -> Row:
    index = {c.key: i for i, c in enumerate(columns)}
    cells = []
    for i, column in enumerate(columns):
        n = counts[i]
        if i in hidden:
            cells.append(Cell(None, small=0 < n < threshold, limit=threshold))
            continue
        d = index.get(column.share_of)
        rate = round(100 * n / counts[d], 1) if n and d is not None and d not in hidden else None
        cells.append(Cell(n, rate))
    return Row(key, label, tuple(cells))


def _table(
    key: str,
    title: str,
    columns: Sequence[Column],
    labelled: Sequence[tuple[str, str, list[int]]],
    marks: set[Position],
    total: list[int] | None,
    threshold: int = DEFAULT_SMALL_CELL,
) -> Table:
    rows = list(labelled)
    if total is not None:
        rows.append(("total", _("All"), total))
    built = [
        _row(k, label, counts, {c for r, c in marks if r == i}, columns, threshold)
        for i, (k, label, counts) in enumerate(rows)
    ]
    if total is not None:
        return Table(key, title, tuple(columns), tuple(built[:-1]), built[-1])
    return Table(key, title, tuple(columns), tuple(built))


def _full_over(user: User, schools: Sequence[School]) -> bool:
    """Whether the user reads individual results in every school of the view (psych teachers)."""
    return bool(schools) and all(
        any(g.policy.student_level >= Level.FULL and g.covers_school(s) for g in policy.grants(user))
        for s in schools
    )


def view_schools(user: User, campaign: Campaign, school: School | None = None) -> list[School]:
    """The campaign's schools whose aggregates the user may see (or the one asked for)."""
    in_scope = policy.aggregate_schools_for(user).filter(campaigns=campaign).order_by("code")
    if school is not None:
        policy.require(user, Perm.VIEW_AGGREGATES, school=school, what="campaign results")
        in_scope = in_scope.filter(pk=school.pk)
    schools = list(in_scope)
    if not schools:
        raise Http404()
    return schools


def results_summary(user: User, campaign: Campaign, *, school: School | None = None) -> Summary:
    """Participation and results of a campaign over the schools the user may see aggregates
    of (`?school` narrows to one). Raises Http404 when there is nothing the user may see."""
    schools = view_schools(user, campaign, school)
    ids = [s.pk for s in schools]
    several = policy.aggregate_schools_for(user).count() > 1
    threshold = suppression.small_cell(campaign.district.code)
    columns = _columns(campaign)
    width = len(columns)
    # One grouped query, read from the covering index `invitation_aggregate_cover`.
    rows = (
        Invitation.objects.filter(campaign=campaign, stage=1, school_id__in=ids)
        .values_list("school_id", "grade_level", "gender", *STATE)
        .annotate(n=Count("*"))
        .order_by()
    )
    overall_tally = _Tally(columns)
    tallies = {dim: _Tally(columns) for dim in ("school_id", "grade_level", "gender")}
    for school_id, grade_level, gender, *state, n in rows:
        st = _state(*state)
        overall_tally.add("total", st, n)
        tallies["school_id"].add(school_id, st, n)
        tallies["grade_level"].add(grade_level, st, n)
        tallies["gender"].add(gender, st, n)
    total = overall_tally.vector("total")
    by = {dim: {key: tally.vector(key) for key in tally} for dim, tally in tallies.items()}

    plans: list[tuple[str, str, list[tuple[str, str, list[int]]]]] = []
    if len(schools) > 1:
        plans.append(
            (
                "school",
                _("By school"),
                [(str(s.uid), s.name, by["school_id"].get(s.pk, [0] * width)) for s in schools],
            )
        )
    plans.append(
        (
            "grade",
            _("By grade"),
            [(str(g), GRADE_NAMES.get(g, str(g)), c) for g, c in sorted(by["grade_level"].items())],
        )
    )
    genders = dict(Gender.choices)
    plans.append(
        (
            "gender",
            _("By gender"),
            [(g, str(genders.get(g, g or "—")), c) for g, c in sorted(by["gender"].items())],
        )
    )
    grids = [[c for k, label, c in labelled] + [total] for key, title, labelled in plans]
    marks = suppress_tables(grids, row_groups=_row_groups(columns), threshold=threshold)
    breakdowns = [
        _table(key, title, columns, labelled, m, total, threshold)
        for (key, title, labelled), m in zip(plans, marks, strict=True)
    ]
    overall_hidden = {c for r, c in marks[0] if r == len(grids[0]) - 1}
    overall = _row("total", _("All"), total, overall_hidden, columns, threshold)

    breakdowns.append(_key_populations(campaign, ids, columns, threshold, clinical=_full_over(user, schools)))
    years = _years(user, campaign, ids, columns, total, overall_hidden, threshold)
    bands = _bands(user, campaign, schools, threshold) if _full_over(user, schools) else ()
    hidden_any = any(
        c.hidden
        for table in (*breakdowns, years, *bands)
        for row in (*table.rows, table.total)
        if row
        for c in row.cells
    )
    summary = Summary(
        campaign=campaign,
        schools=tuple(schools),
        school=school,
        suppressed=hidden_any,
        several_schools=several,
        columns=columns,
        overall=overall,
        breakdowns=tuple(breakdowns),
        years=years,
        bands=bands,
    )
    if any(r.cells[-1].count != 0 for r in (overall, *years.rows)):
        return summary
    return summary.without("unscored")  # nothing is awaiting scoring


def _row_groups(columns: Sequence[Column]) -> list[list[int]]:
    """The two groups of columns that add up along a row: participation, results."""
    return [list(range(INVITED, COMPLETED)), list(range(COMPLETED, len(columns)))]


def _key_populations(
    campaign: Campaign, ids: list[int], columns: Sequence[Column], threshold: int, *, clinical: bool
) -> Table:
    """Students with an active flag of each kind. A student may carry several flags, so the
    rows overlap and only add up along a row. Clinical kinds are named only for who reads the
    schools in full (psych teachers); others read the neutral need (xinyu.kernel.labels)."""
    tally = _Tally(columns)
    for kind, *state, n in _flag_states(campaign, ids):
        tally.add(kind, _state(*state), n)
    labelled = [
        (kind, kind_label(kind, label, clinical=clinical, aggregate=True), tally.vector(kind))
        for kind, label in KeyPopulation.choices
    ]
    grid = [c for k, label, c in labelled]
    marks = suppress(grid, row_groups=_row_groups(columns), column_lines=False, threshold=threshold)
    return _table("key_population", _("By key population"), columns, labelled, marks, None, threshold)


def _flag_states(campaign: Campaign, ids: list[int]) -> list[tuple[Any, ...]]:
    """(kind, *STATE, count) of the campaign's stage-1 invitations in the schools `ids`, per
    active flag of their students.

    A district holds tens of thousands of active flags (75,000 for 150,000 invited students
    in bench/bench_screening.py). Read from the index of the active ones
    (`one_active_flag_per_kind`), each flag finds its student's invitation in the covering
    index `invitation_student_cover`: 50 ms there, against 210 ms for the ORM's join through
    `Student`, which SQLite's planner starts from the invitations (probing the flags, and
    their rows, once per invitation). CROSS JOIN keeps SQLite's join order; PostgreSQL reads
    it as an inner join and plans it freely. The cost follows the active flags of the
    database, not the schools of the view (one school: about 20 ms)."""
    if not ids:
        return []
    q = connection.ops.quote_name
    flags, invitations = q(StudentFlag._meta.db_table), q(Invitation._meta.db_table)
    state = ", ".join(f"i.{q(c)}" for c in STATE)
    sql = (
        f"SELECT f.{q('kind')}, {state}, COUNT(*) FROM {flags} f CROSS JOIN {invitations} i "  # noqa: S608
        f"WHERE i.{q('student_id')} = f.{q('student_id')} AND f.{q('cleared_at')} IS NULL "
        f"AND i.{q('campaign_id')} = %s AND i.{q('stage')} = 1 "
        f"AND i.{q('school_id')} IN ({', '.join(['%s'] * len(ids))}) "
        f"GROUP BY f.{q('kind')}, {state}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, *ids])
        rows = cursor.fetchall()
    # The kind, the re-test flag and the tier are keyed tokens at rest (xinyu.crypto): only
    # the few grouped values are read back, never the rows.
    fields = [StudentFlag._meta.get_field("kind"), *(Invitation._meta.get_field(c) for c in STATE)]
    return [(*(_clear(f, v) for f, v in zip(fields, row[:-1], strict=True)), row[-1]) for row in rows]


def _clear(field: Any, value: Any) -> Any:
    """A value as the ORM would give it (tokens read back; other columns as they are)."""
    read = getattr(field, "from_db_value", None)
    return read(value, None, connection) if read and value is not None else value


def _years(
    user: User,
    campaign: Campaign,
    ids: list[int],
    columns: Sequence[Column],
    current: list[int],
    current_hidden: set[int],
    threshold: int,
) -> Table:
    """The same schools in the campaigns of earlier school years that the user can see."""
    earlier = dict(
        screening_access.campaigns_for(user)
        .filter(district_id=campaign.district_id, school_year__lt=campaign.school_year, schools__in=ids)
        .values_list("pk", "school_year")
    )
    tally = _Tally(columns)
    rows = (
        Invitation.objects.filter(campaign_id__in=list(earlier), stage=1, school_id__in=ids)
        .values_list("campaign_id", *STATE)
        .annotate(n=Count("*"))
        .order_by()
    )
    for campaign_id, *state, n in rows:
        tally.add(earlier[campaign_id], _state(*state), n)
    counts = {year: tally.vector(year) for year in tally}
    counts[campaign.school_year] = current
    labelled = [(year, year, counts[year]) for year in sorted(counts)]
    grid = [c for k, label, c in labelled]
    already = {(len(grid) - 1, c) for c in current_hidden}
    marks = suppress(
        grid, row_groups=_row_groups(columns), column_lines=False, hidden=already, threshold=threshold
    )
    return _table("year", _("Year over year"), columns, labelled, marks, None, threshold)


def _bands(user: User, campaign: Campaign, schools: Sequence[School], threshold: int) -> tuple[Table, ...]:
    """Primary-scale bands per instrument, from the results the user may read."""
    readable = screening_access.result_invitations_for(user).filter(
        campaign=campaign, stage=1, school__in=schools, consent=Consent.GIVEN
    )
    rows = (
        Result.objects.filter(invitation_id__in=readable.values("pk"))
        .values("instrument", "primary_band", "valid")
        .annotate(n=Count("id"))
        .order_by()
    )
    found: dict[str, dict[tuple[str, bool], int]] = defaultdict(dict)
    for r in rows:
        found[r["instrument"]][(r["primary_band"], r["valid"])] = r["n"]
    lang = _lang()
    tables = []
    for code in sorted(found):
        try:
            instrument = get_instrument(code)
            name = localized(instrument.short_name, lang) or code
            bands = [(b.code, localized(b.label, lang)) for b in instrument.primary_scale.bands]
        except KeyError:
            name, bands = code, []
        counts = found[code]
        known = {b for b, label in bands}
        bands += [(b, b or "—") for b in sorted({b for b, valid in counts if valid} - known)]
        values = [sum(counts.values())]
        values += [counts.get((b, True), 0) for b, label in bands]
        values.append(sum(n for (b, valid), n in counts.items() if not valid))
        columns = (
            Column("results", _("Results")),
            *(Column(f"band:{b}", label, "results") for b, label in bands),
            Column("invalid", _("Not valid (re-test)"), "results"),
        )
        marks = suppress([values], row_groups=[list(range(len(values)))], threshold=threshold)
        row = _row(code, name, values, {c for r, c in marks}, columns, threshold)
        tables.append(Table(f"band:{code}", name, columns, (row,)))
    return tuple(tables)
