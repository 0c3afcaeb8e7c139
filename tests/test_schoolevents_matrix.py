"""The access matrix's rows of xinyu.schoolevents alone (tests/matrix_schoolevents.py), so the
app's table can be checked without the other activity apps' rows."""

from __future__ import annotations

from tests.test_access_matrix import AccessMatrixBase


class SchoolEventsMatrixTests(AccessMatrixBase):
    def test_schoolevents_rows(self) -> None:
        self.run_group(("schoolevents:", "api:op:xinyu_api_schoolevents"))
