"""Issue 11 item 10: every page that takes a code (typed or in the URL, GET as well as
POST) counts wrong codes in the database, per client address and per code attempted; a
valid code costs nothing more; a computer room behind one NAT address whose students type
their own codes (with a few typos) is not locked out; answer codes are 12 characters (old
8-character codes stay valid)."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.personas import PersonaTestCase, _student
from tests.screening_helpers import consent_and_start, invitation, make_campaign
from xinyu.kernel import kiosk
from xinyu.screening import services
from xinyu.screening.models import CODE_ALPHABET, CODE_LENGTH, Invitation


def wrong_code(n: int) -> str:
    """A well-formed code that belongs to no one (the alphabet's letters in a pattern)."""
    return "".join(CODE_ALPHABET[(n * 7 + i * 3) % len(CODE_ALPHABET)] for i in range(CODE_LENGTH))


def typo(code: str) -> str:
    first = CODE_ALPHABET[(CODE_ALPHABET.index(code[0]) + 1) % len(CODE_ALPHABET)]
    return first + code[1:]


class ThrottleTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_campaign(cls.w)
        cls.inv = invitation(cls.campaign, cls.w.student_a41)

    def setUp(self) -> None:
        cache.clear()  # the counters, and this process's memory of locks

    def tearDown(self) -> None:
        cache.clear()


class GetCountsTest(ThrottleTestCase):
    def test_get_of_a_wrong_code_counts_and_locks_the_address_even_for_a_right_code(self) -> None:
        client = Client(REMOTE_ADDR="10.1.1.1")
        for n in range(kiosk.MAX_WRONG_CODES):
            self.assertEqual(client.get(f"/s/{wrong_code(n)}/").status_code, 404)
        self.assertEqual(cache.get("wrong-code:answer:10.1.1.1"), kiosk.MAX_WRONG_CODES)
        locked = client.get(f"/s/{self.inv.code}/")
        self.assertEqual(locked.status_code, 429)
        self.assertContains(locked, "尝试次数太多", status_code=429)
        self.assertContains(locked, "Too many tries", status_code=429)
        self.assertEqual(client.post("/s/", {"code": self.inv.code}).status_code, 200)  # the form says so
        self.assertContains(client.post("/s/", {"code": self.inv.code}), "尝试次数太多")
        # Another address is not affected.
        self.assertEqual(Client(REMOTE_ADDR="10.1.1.2").get(f"/s/{self.inv.code}/").status_code, 200)

    def test_every_url_that_takes_a_code_counts_a_wrong_one(self) -> None:
        client = Client(REMOTE_ADDR="10.2.2.2")
        code = wrong_code(1)
        calls = [
            ("get", f"/s/{code}/"),
            ("post", f"/s/{code}/"),
            ("post", f"/s/{code}/assent/"),
            ("post", f"/s/{code}/answer/"),
            ("post", f"/s/{code}/submit/"),
            ("post", f"/s/{code}/stop/"),
            ("get", f"/s/{code}/done/"),
            ("get", f"/s/{code}/stopped/"),
            ("post", "/s/"),
        ]
        for n, (method, url) in enumerate(calls, start=1):
            data = {"code": code} if url == "/s/" else {}
            response = getattr(client, method)(url, data)
            self.assertIn(response.status_code, (200, 404), url)
            self.assertEqual(cache.get("wrong-code:answer:10.2.2.2"), n, url)
        self.assertEqual(client.get("/g/not-a-token/").status_code, 404)
        self.assertEqual(cache.get("wrong-code:guardian:10.2.2.2"), 1)

    def test_a_wrong_guardian_link_is_throttled_too(self) -> None:
        client = Client(REMOTE_ADDR="10.3.3.3")
        for n in range(kiosk.MAX_WRONG_CODES):
            self.assertEqual(client.get(f"/g/guess{n}/").status_code, 404)
        self.assertEqual(client.get(f"/g/{self.inv.guardian_token}/").status_code, 429)
        self.assertEqual(
            Client(REMOTE_ADDR="10.3.3.4").get(f"/g/{self.inv.guardian_token}/").status_code, 200
        )


class SharedAndPerCodeTest(ThrottleTestCase):
    def test_the_counters_are_in_the_database_so_another_worker_sees_the_lock(self) -> None:
        client = Client(REMOTE_ADDR="10.4.4.4")
        for n in range(kiosk.MAX_WRONG_CODES):
            client.get(f"/s/{wrong_code(n)}/")
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM xinyu_throttle")
            self.assertGreater(cursor.fetchone()[0], 0)
        kiosk._LOCKED.clear()  # a worker that has not seen this address yet
        self.assertEqual(client.get(f"/s/{wrong_code(99)}/").status_code, 429)
        # ...and from then on it refuses that address without a query.
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(client.get(f"/s/{self.inv.code}/").status_code, 429)
        self.assertEqual(len(queries), 0)

    def test_one_code_cannot_be_hammered_from_many_addresses(self) -> None:
        code = wrong_code(5)
        for n in range(kiosk.MAX_ADDRESSES_PER_CODE):
            self.assertEqual(Client(REMOTE_ADDR=f"10.5.0.{n}").get(f"/s/{code}/").status_code, 404)
        other = Client(REMOTE_ADDR="10.5.1.1")
        self.assertEqual(other.get(f"/s/{code}/").status_code, 429)
        # The same address may still try another code; one address retyping counts once.
        self.assertEqual(other.get(f"/s/{wrong_code(6)}/").status_code, 404)
        retyper = Client(REMOTE_ADDR="10.5.2.2")
        for _ in range(3):
            retyper.get(f"/s/{wrong_code(7)}/")
        self.assertEqual(cache.get(kiosk._code_key("answer", wrong_code(7))), 1)

    def test_a_valid_code_costs_no_statement_for_the_throttle(self) -> None:
        consent_and_start(Invitation.objects.get(pk=self.inv.pk))
        client = Client(REMOTE_ADDR="10.6.6.6")
        client.get(f"/s/{self.inv.code}/")
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(client.get(f"/s/{self.inv.code}/").status_code, 200)
            self.assertEqual(
                client.post(
                    f"/s/{self.inv.code}/", {"instrument": "PHQ9", "item": 1, "value": 0}
                ).status_code,
                200,
            )
            client.post("/s/", {"code": self.inv.code})
        self.assertFalse([q for q in queries if "xinyu_throttle" in q["sql"]])
        self.assertIsNone(cache.get("wrong-code:answer:10.6.6.6"))


class ComputerRoomTest(ThrottleTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for n in range(40):
            _student(f"G2026{n:04d}", f"学生{n:02d}号", "F" if n % 2 else "M", cls.w.class_a42)
        cls.room_campaign = make_campaign(cls.w, name="机房测评")
        cls.codes = list(
            Invitation.objects.filter(campaign=cls.room_campaign, student__student_no__startswith="G2026")
            .order_by("student__student_no")
            .values_list("code", flat=True)
        )

    def test_forty_students_behind_one_nat_address_with_a_few_typos_all_get_in(self) -> None:
        self.assertEqual(len(self.codes), 40)
        for n, code in enumerate(self.codes):
            student = Client(REMOTE_ADDR="192.168.10.1")
            if n % 5 == 0:  # 8 students mistype first, two of them twice the same way
                for _ in range(2 if n % 20 == 0 else 1):
                    self.assertContains(student.post("/s/", {"code": typo(code)}), "没有找到这个作答码")
                self.assertContains(student.get(f"/s/{typo(code)}/"), "", status_code=404)
            entered = student.post("/s/", {"code": code.lower()})
            self.assertRedirects(entered, f"/s/{code}/", fetch_redirect_response=False)
            self.assertEqual(student.get(f"/s/{code}/").status_code, 200)
        self.assertLess(int(cache.get("wrong-code:answer:192.168.10.1")), kiosk.MAX_WRONG_CODES)


class CodeLengthTest(ThrottleTestCase):
    def test_new_codes_are_twelve_characters_and_old_eight_character_codes_still_work(self) -> None:
        self.assertEqual(CODE_LENGTH, 12)
        self.assertEqual(len(self.inv.code), 12)
        self.assertEqual(
            services.find_by_code(f"{self.inv.code[:4]}-{self.inv.code[4:8]}-{self.inv.code[8:]}"), self.inv
        )
        Invitation.objects.filter(pk=self.inv.pk).update(code="ABCD2345")
        self.assertEqual(services.find_by_code("abcd-2345"), self.inv)
        self.assertEqual(Client().get("/s/ABCD2345/").status_code, 200)
        self.assertIsNone(services.find_by_code("ABCD23456"))  # 9: neither length

    def test_student_keys_are_twelve_characters_printed_in_groups_and_old_keys_still_work(self) -> None:
        from xinyu.counselling.services import issue_keys
        from xinyu.org.keys import KEY_LENGTH, find_key
        from xinyu.org.models import StudentKey

        [key, *_] = issue_keys(by=self.w.psych_a, school_class=self.w.class_a41)
        self.assertEqual((KEY_LENGTH, len(key.code)), (12, 12))
        self.assertRegex(key.printed, r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")
        self.assertEqual(find_key(school=self.w.school_a, raw=key.printed.lower()), key)
        self.assertIsNone(find_key(school=self.w.school_b, raw=key.printed))  # another school's
        StudentKey.objects.filter(pk=key.pk).update(code="ABCD2345")  # issued before: 8 characters
        self.assertEqual(find_key(school=self.w.school_a, raw="abcd 2345"), key)
        self.assertIsNone(find_key(school=self.w.school_a, raw="ABCD23456"))  # 9: neither length
