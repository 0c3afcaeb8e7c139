"""xinyu.kernel.evidence (the upload check every activity's evidence goes through) and
xinyu.kernel.verdict (the counting result the activity apps return)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase
from PIL import Image

from xinyu.kernel.errors import ServiceError
from xinyu.kernel.evidence import MAX_EVIDENCE_BYTES, check_upload
from xinyu.kernel.verdict import Verdict, judge


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "PNG")
    return buf.getvalue()


class CheckUploadTests(SimpleTestCase):
    def test_a_real_png_and_a_pdf_pass_with_their_type(self) -> None:
        self.assertEqual(check_upload(SimpleUploadedFile("a.png", _png(), "image/png")), "image/png")
        pdf = SimpleUploadedFile("m.pdf", b"%PDF-1.4\n%...", "application/pdf")
        self.assertEqual(check_upload(pdf), "application/pdf")
        self.assertEqual(pdf.read(5), b"%PDF-", "the file is rewound for saving")

    def test_a_file_that_lies_about_its_type_is_refused(self) -> None:
        cases = [
            SimpleUploadedFile("x.png", b"<html>not an image</html>", "image/png"),
            SimpleUploadedFile("x.jpg", _png(), "image/jpeg"),  # a PNG claiming to be a JPEG
            SimpleUploadedFile("x.pdf", b"MZ\x90\x00 windows executable", "application/pdf"),
        ]
        for upload in cases:
            with self.subTest(upload.name), self.assertRaises(ServiceError) as ctx:
                check_upload(upload)
            self.assertEqual(ctx.exception.field, "file")
            self.assertIn("附件", ctx.exception.zh)

    def test_other_types_and_large_files_are_refused(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            check_upload(SimpleUploadedFile("x.html", b"<script>", "text/html"))
        self.assertIn("only JPEG", ctx.exception.en)
        big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES, "application/pdf")
        with self.assertRaises(ServiceError) as ctx:
            check_upload(big)
        self.assertIn("10 MB", ctx.exception.en)


class JudgeTests(SimpleTestCase):
    def test_boundaries_and_no_data(self) -> None:
        self.assertEqual(judge(rule="r", unit="u", required=9, actual=9).verdict, Verdict.MET)
        self.assertEqual(judge(rule="r", unit="u", required=9, actual=8).verdict, Verdict.MISSED)
        self.assertEqual(judge(rule="r", unit="u", required=1, actual=0).verdict, Verdict.MISSED)
        self.assertEqual(judge(rule="r", unit="u", required=1, actual=None).verdict, Verdict.NO_DATA)
        self.assertFalse(judge(rule="r", unit="u", required=1, actual=None).met, "no data is never met")
        self.assertEqual(judge(rule="r", unit="u", required=0, actual=3).verdict, Verdict.NOT_APPLICABLE)
