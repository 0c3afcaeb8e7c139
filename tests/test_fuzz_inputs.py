"""Bad files never break the loaders (issue 11 item 9): hypothesis feeds the roster importer,
the instrument loader and the policy loader random bytes and mutations of valid files. Each
answer is either a result or the loader's own error with a clear message (Chinese and
English where the loader speaks both): never another exception, and a refused roster file
writes nothing.

Bounded (EXAMPLES per property) so that the file runs in well under a minute."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
from django.conf import settings
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from tests.personas import PersonaTestCase
from tests.test_roster import HEADER, csv_bytes, student_row
from xinyu.org import roster
from xinyu.org.models import ImportBatch, Student, User

EXAMPLES = 20
FUZZ = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
BASE = Path(settings.BASE_DIR)
INSTRUMENT_FILES = sorted((BASE / "instruments").glob("*.toml"))
POLICY_FILES = sorted((BASE / "policies").glob("*.toml"))


# ---- mutations of valid files -------------------------------------------------------------

TOKENS = st.sampled_from(
    [
        '"',
        "'",
        "[",
        "]",
        "{",
        "}",
        "=",
        "\n",
        "#",
        "\\",
        '"""',
        "0",
        "-1",
        "1e309",
        "nan",
        "true",
        "[[",
        "]]",
        "\x00",
        "é",
        "测",
    ]
)


@st.composite
def mutated_bytes(draw: Any, original: bytes) -> bytes:
    """A valid file with a few bytes flipped, cut, repeated or inserted."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif kind == "truncate":
            del data[at:]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 60))]
    return bytes(data)


@st.composite
def mutated_toml(draw: Any, original: str) -> str:
    """A valid TOML file with lines dropped, repeated or with their value replaced: files that
    still parse but hold wrong types, missing keys and odd values, plus syntax damage."""
    lines = original.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "repeat", "value", "value", "value", "token"]))
        if kind == "drop":
            del lines[at]
        elif kind == "repeat":
            lines.insert(at, lines[at])
        elif kind == "value" and "=" in lines[at]:
            key = lines[at].split("=", 1)[0]
            value = draw(
                st.one_of(
                    st.integers(-(10**20), 10**20).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(
                        lambda f: repr(f).replace("inf", "inf")
                    ),
                    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
                    st.sampled_from(
                        ["true", "false", "[]", "{}", "[1, 2]", '["a"]', "{ x = 1 }", "1979-05-27", '""']
                    ),
                )
            )
            lines[at] = f"{key}= {value}"
        else:
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))] + draw(TOKENS)
    return "\n".join(lines) + "\n"


# ---- the roster importer ------------------------------------------------------------------

# Text a worksheet can hold (openpyxl refuses control characters when writing).
CELL_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
CELL = st.one_of(
    st.none(),
    CELL_TEXT,
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["=1+1", '=HYPERLINK("http://x","x")', "=cmd|' /C calc'!A0", "+SUM(A1)", "@x", "-1"]),
)
VALID_ROW = student_row()


@st.composite
def workbooks(draw: Any) -> bytes:
    """An .xlsx with random cells under a real or random header, formula cells, merged cells,
    data on a second sheet behind an empty or wrong first one, odd sheet titles."""
    wb = openpyxl.Workbook()
    first = wb.active
    layout = draw(st.sampled_from(["plain", "wrong-first-sheet", "empty-first-sheet", "many-sheets"]))
    if layout != "plain":
        if layout == "wrong-first-sheet":
            first.append(["说明", "请填写第二张表"])
        data = wb.create_sheet(
            draw(
                st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20).filter(
                    lambda t: not re.search(r"[\\/*?:\[\]]", t)
                )
            )
        )
        if layout == "many-sheets":
            for _ in range(draw(st.integers(1, 3))):
                wb.create_sheet().append(draw(st.lists(CELL, max_size=5)))
    else:
        data = first
    header = draw(st.one_of(st.just(HEADER), st.lists(st.one_of(st.sampled_from(HEADER), CELL), max_size=14)))
    data.append(list(header))
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            row = [draw(st.one_of(st.just(v), CELL)) for v in VALID_ROW]
        else:
            row = draw(st.lists(CELL, max_size=14))
        data.append(row)
    for _ in range(draw(st.integers(0, 2))):
        r, c = draw(st.integers(1, 6)), draw(st.integers(1, 10))
        data.merge_cells(
            start_row=r,
            start_column=c,
            end_row=r + draw(st.integers(0, 2)),
            end_column=c + draw(st.integers(1, 3)),
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def valid_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(VALID_ROW)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


NAMES = st.sampled_from(["r.csv", "r.xlsx", "R.XLSX", "r.xls", "r.txt", "r", "r.csv.xlsx", "../../r.csv"])


class RosterImporterFuzz(HypothesisTestCase, PersonaTestCase):
    def outcome(self, *, user: User, kind: str, name: str, data: bytes, keep: bool) -> str:
        """Preview (or keep as a batch) one upload; any exception but RosterError fails."""
        students, batches = Student.objects.count(), ImportBatch.objects.count()
        try:
            if keep:
                batch, plan = roster.create_batch(by=user, kind=kind, filename=name, data=data)
            else:
                plan = roster.preview(by=user, kind=kind, filename=name, data=data)
        except roster.RosterError as exc:
            assert exc.message_zh.strip() and exc.message_en.strip(), exc
            assert "Traceback" not in exc.message_en and "object at 0x" not in exc.message_en
            assert ImportBatch.objects.count() == batches  # refused: nothing kept
            assert Student.objects.count() == students
            return "refused"
        assert Student.objects.count() == students  # a preview never writes a student
        for line in roster.format_errors(plan.errors):
            assert line.strip()
        for error in plan.errors:
            assert error.message_zh.strip() and error.message_en.strip(), error
        if keep:
            assert ImportBatch.objects.count() == batches + 1 and batch.kind == kind
        return "planned"

    @FUZZ
    @given(data=st.binary(max_size=3000), name=NAMES, kind=st.sampled_from(["students", "classes", "staff"]))
    def test_random_bytes(self, data: bytes, name: str, kind: str) -> None:
        self.outcome(user=self.w.district_admin, kind=kind, name=name, data=data, keep=False)

    @FUZZ
    @given(
        data=mutated_bytes(csv_bytes([student_row(), student_row(学籍号="G2", 姓名="二")])),
        keep=st.booleans(),
    )
    def test_mutated_csv(self, data: bytes, keep: bool) -> None:
        self.outcome(user=self.w.psych_a, kind="students", name="r.csv", data=data, keep=keep)

    @FUZZ
    @given(data=mutated_bytes(valid_xlsx()))
    def test_mutated_xlsx(self, data: bytes) -> None:
        self.outcome(user=self.w.psych_a, kind="students", name="r.xlsx", data=data, keep=False)

    @FUZZ
    @given(data=workbooks(), kind=st.sampled_from(["students", "classes", "staff"]), keep=st.booleans())
    def test_random_workbooks_with_formulas_merged_cells_and_wrong_sheets(
        self, data: bytes, kind: str, keep: bool
    ) -> None:
        self.outcome(user=self.w.district_admin, kind=kind, name="r.xlsx", data=data, keep=keep)

    def test_formula_cells_are_never_evaluated_or_kept_as_formulas(self) -> None:
        wb = openpyxl.Workbook()
        wb.active.append(HEADER)
        wb.active.append([*VALID_ROW[:4], '=HYPERLINK("http://evil","x")', *VALID_ROW[5:]])
        out = io.BytesIO()
        wb.save(out)
        plan = roster.preview(by=self.w.psych_a, kind="students", filename="r.xlsx", data=out.getvalue())
        # openpyxl reads the cached value (none was saved): the name is missing, not a formula.
        assert [e.column for e in plan.errors] == ["姓名"], plan.errors

    def test_a_huge_file_is_refused_before_it_is_read(self) -> None:
        with override_settings(XINYU_IMPORT_MAX_BYTES=1024 * 1024):
            for name in ("r.csv", "r.xlsx"):
                with self.assertRaises(roster.RosterFileError) as refused:
                    roster.create_batch(
                        by=self.w.psych_a, kind="students", filename=name, data=b"a" * (1024 * 1024 + 1)
                    )
                assert "1 MB" in refused.exception.message_zh and "too big" in refused.exception.message_en
        assert ImportBatch.objects.count() == 0

    def test_a_zip_bomb_like_sheet_with_lying_dimensions_is_refused_or_read_lazily(self) -> None:
        """An .xlsx whose sheet declares a huge dimension but holds two rows."""
        wb = openpyxl.Workbook()
        wb.active.append(HEADER)
        wb.active.append(VALID_ROW)
        wb.active["XFD1048576"] = None
        out = io.BytesIO()
        wb.save(out)
        plan = roster.preview(by=self.w.psych_a, kind="students", filename="r.xlsx", data=out.getvalue())
        assert plan.rows == 1


# ---- the instrument loader ----------------------------------------------------------------


def instrument_outcome(text: str) -> str:
    from xinyu.screening.instruments import InstrumentError, parse_instrument

    try:
        parse_instrument(text, origin="fuzz.toml")
    except InstrumentError as exc:
        message = str(exc)
        assert message.strip() and "fuzz.toml" in message, message
        return "refused"
    return "loaded"


@FUZZ
@given(data=st.binary(max_size=2000))
def test_instrument_loader_random_bytes(tmp_path_factory: Any, data: bytes) -> None:
    from xinyu.screening.instruments import InstrumentError, load_instrument

    path = tmp_path_factory.mktemp("instr") / "fuzz.toml"
    path.write_bytes(data)
    try:
        load_instrument(path)
    except InstrumentError as exc:
        assert str(exc).strip()


@FUZZ
@given(data=st.data())
def test_instrument_loader_mutated_files(data: Any) -> None:
    original = data.draw(st.sampled_from(INSTRUMENT_FILES)).read_text(encoding="utf-8")
    instrument_outcome(data.draw(mutated_toml(original)))


@FUZZ
@given(data=st.data())
def test_instrument_loader_mutated_bytes(data: Any) -> None:
    original = data.draw(st.sampled_from(INSTRUMENT_FILES)).read_bytes()
    mutated = data.draw(mutated_bytes(original))
    try:
        text = mutated.decode("utf-8")
    except UnicodeDecodeError:
        return
    instrument_outcome(text)


def test_every_shipped_instrument_still_loads() -> None:
    assert INSTRUMENT_FILES
    for path in INSTRUMENT_FILES:
        assert instrument_outcome(path.read_text(encoding="utf-8")) == "loaded", path


# ---- the policy loader --------------------------------------------------------------------


def policy_outcome(path: Path) -> list[str]:
    """Read one district file as the start-up check does (merged over default.toml) and run
    every app's section check: PolicyFileError or a list of messages, nothing else."""
    from xinyu.kernel.checks import check_district_file

    problems = check_district_file(path)
    for check_id, message in problems:
        assert re.fullmatch(r"xinyu\.[EW]\d{3}", check_id), check_id
        assert message.strip() and path.name in message, message
    return [m for _, m in problems]


@FUZZ
@given(data=st.binary(max_size=2000))
def test_policy_loader_random_bytes(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("pol") / "500999.toml"
    path.write_bytes(data)
    policy_outcome(path)


@FUZZ
@given(data=st.data())
def test_policy_loader_mutated_files(tmp_path_factory: Any, data: Any) -> None:
    source = data.draw(st.sampled_from([p for p in POLICY_FILES if p.stem != "mailbox_words"]))
    path = tmp_path_factory.mktemp("pol") / source.name
    path.write_text(data.draw(mutated_toml(source.read_text(encoding="utf-8"))), encoding="utf-8")
    policy_outcome(path)


def test_the_shipped_policies_pass_and_a_broken_one_is_named(tmp_path: Path) -> None:
    for path in POLICY_FILES:
        if path.stem != "mailbox_words":
            assert policy_outcome(path) == [], path
    broken = tmp_path / "500999.toml"
    broken.write_bytes(b"\xff\xfe[screening\n")
    problems = policy_outcome(broken)
    assert len(problems) == 1 and "500999.toml" in problems[0]
