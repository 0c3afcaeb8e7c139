"""The psychological mailbox (心理信箱): writing without an account, the retrieval code, the
word list, triage and replies by the school's psych teachers, per-role visibility, the
anonymity promise and encryption at rest."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.personas import PersonaTestCase
from tests.test_screening_pages import visible_text
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import Signal, Warning
from xinyu.mailbox import services
from xinyu.mailbox.models import FlagReason, Letter, LetterStatus, Reply, Signature
from xinyu.notify.models import Message

SECRET = "我最近总是睡不着，和同桌吵架了，不知道怎么办"
RISK = "我觉得活着没意思，有时候不想活了"
CODE_RE = re.compile(r'data-testid="retrieval-code">([A-Z0-9-]+)<')


def denied_count() -> int:
    return AuditEntry.objects.filter(action=Action.DENIED).count()


class MailboxTestCase(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()  # wrong-code counters

    def post_letter(self, client: Client | None = None, **data: str) -> tuple[object, str]:
        client = client or Client()
        response = client.post(
            f"/mailbox/{self.w.school_a.code}/", {"signature": "anonymous", **data}, REMOTE_ADDR="10.9.8.7"
        )
        match = CODE_RE.search(response.content.decode())
        return response, match.group(1) if match else ""

    def letter(self, body: str = SECRET, **kwargs: object) -> tuple[Letter, str]:
        sent = services.send_letter(
            school=self.w.school_a,
            body=body,
            signature=kwargs.pop("signature", Signature.ANONYMOUS),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )
        return sent.letter, sent.code

    def assert_denied(self, client: Client, url: str, method: str = "get", data: dict | None = None) -> None:
        before = denied_count()
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 404, (url, response.status_code)
        assert denied_count() == before + 1, url


class PublicMailboxTest(MailboxTestCase):
    def test_the_writing_page_needs_no_account_and_a_known_school(self) -> None:
        response = Client().get(f"/mailbox/{self.w.school_a.code}/")
        assert response.status_code == 200
        assert self.w.school_a.name in response.content.decode()
        assert Client().get("/mailbox/NOPE/").status_code == 404

    def test_an_anonymous_letter_shows_the_code_once_and_stores_only_its_hash(self) -> None:
        response, code = self.post_letter(body=SECRET, signed_name="张小明", signed_class="四年级1班")
        assert response.status_code == 200 and len(code) == 14
        letter = Letter.objects.get()
        assert letter.signature == Signature.ANONYMOUS and letter.student is None
        assert letter.signed_name == "" and letter.signed_class == ""  # anonymous drops a typed name
        assert letter.retrieval_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
        assert letter.body == SECRET and not letter.flagged
        assert letter.reply_due - letter.received_at == dt.timedelta(days=3)  # policies/default.toml
        assert letter.received_at.minute == 0 and letter.received_at.second == 0
        # The code is in no column of the letter's row.
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM mailbox_letter")
            row = " ".join(str(v) for v in cursor.fetchone())
        assert code not in row and code.replace("-", "") not in row
        # Opening the page again shows a fresh form, never the code.
        assert code not in Client().get(f"/mailbox/{self.w.school_a.code}/").content.decode()

    def test_letters_and_replies_are_encrypted_at_rest(self) -> None:
        letter, _ = self.letter(
            SECRET, signature=Signature.SIGNED, signed_name="张小明", signed_class="四年级1班"
        )
        services.save_note(by=self.w.psych_a, letter=letter, note="约谈同桌矛盾")
        services.reply(by=self.w.psych_a, letter=letter, body="谢谢你的来信，欢迎来辅导室聊聊")
        with connection.cursor() as cursor:
            cursor.execute("SELECT body, signed_name, signed_class, note FROM mailbox_letter")
            letter_row = " ".join(cursor.fetchone())
            cursor.execute("SELECT body FROM mailbox_reply")
            reply_row = cursor.fetchone()[0]
        for plain in (SECRET, "睡不着", "张小明", "四年级", "约谈"):
            assert plain not in letter_row, plain
        assert "辅导室" not in reply_row and reply_row.startswith("gAAAA")  # a Fernet token
        assert Letter.objects.get().body == SECRET  # and it decrypts

    def test_no_trace_links_an_anonymous_letter_to_a_device_or_person(self) -> None:
        _, code = self.post_letter(body=SECRET)
        letter = Letter.objects.get()
        Client().post("/mailbox/read/", {"code": code}, REMOTE_ADDR="10.9.8.7")
        self.client_for(self.w.psych_a).get(f"/letters/{letter.uid}/")
        services.reply(by=self.w.psych_a, letter=letter, body="收到")
        rows = AuditEntry.objects.filter(object_id=str(letter.uid))
        assert rows.count() == 4  # received, read, viewed by the psych teacher, replied
        assert not rows.filter(student__isnull=False).exists()
        public = rows.filter(role="public")
        assert public.count() == 2
        assert all(r.ip is None and r.user_id is None and r.request_id == "" for r in public)
        assert all(r.at.minute == 0 and r.at.second == 0 for r in public)  # the hour only
        assert not AuditEntry.objects.filter(ip="10.9.8.7").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM mailbox_letter")
            assert "10.9.8.7" not in " ".join(str(v) for v in cursor.fetchone())

    def test_the_same_form_sent_twice_stores_one_letter(self) -> None:
        first, code = self.post_letter(body=SECRET, once="form-token-1")
        second, again = self.post_letter(body=SECRET, once="form-token-1")
        assert code and not again
        assert Letter.objects.count() == 1
        assert "已经" in second.content.decode() or "already" in second.content.decode()

    def test_an_empty_letter_or_a_signed_letter_without_a_name_is_refused(self) -> None:
        response, code = self.post_letter(body="   ")
        assert not code and 'role="alert"' in response.content.decode()
        response, code = self.post_letter(body=SECRET, signature="signed", signed_name="")
        assert not code and Letter.objects.count() == 0

    def test_reading_the_reply_with_the_code(self) -> None:
        _, code = self.post_letter(body=SECRET)
        letter = Letter.objects.get()
        page = Client().post("/mailbox/read/", {"code": code.lower().replace("-", " ")}).content.decode()
        assert SECRET in page and 'data-testid="no-reply"' in page
        services.reply(by=self.w.psych_a, letter=letter, body="谢谢你的信，我们可以聊一聊")
        page = Client().post("/mailbox/read/", {"code": code}).content.decode()
        assert "谢谢你的信，我们可以聊一聊" in page
        assert Reply.objects.get().read_at is not None
        # The psych teacher's name is not shown to the student; a wrong code shows nothing.
        assert self.w.psych_a.full_name not in page
        wrong = Client().post("/mailbox/read/", {"code": "AAAA-BBBB-CCCC"}).content.decode()
        assert SECRET not in wrong and 'role="alert"' in wrong

    def test_guessing_codes_is_rate_limited(self) -> None:
        _, code = self.post_letter(body=SECRET)
        client = Client()
        for _ in range(20):
            client.post("/mailbox/read/", {"code": "WRONG-CODE-0000"}, REMOTE_ADDR="10.0.0.5")
        page = client.post("/mailbox/read/", {"code": code}, REMOTE_ADDR="10.0.0.5").content.decode()
        assert SECRET not in page and "10" in page
        # Another address is not affected.
        assert (
            SECRET in Client().post("/mailbox/read/", {"code": code}, REMOTE_ADDR="10.0.0.6").content.decode()
        )


class WordListTest(MailboxTestCase):
    def test_a_letter_mentioning_self_harm_is_flagged_and_the_psych_teachers_told_at_once(self) -> None:
        response, code = self.post_letter(body=RISK)
        letter = Letter.objects.get()
        assert letter.flagged and letter.flag_reason == FlagReason.WORDS and letter.flagged_at
        messages = Message.objects.filter(kind="mailbox_flagged")
        assert {m.recipient_id for m in messages} == {self.w.psych_a.pk}  # not school B's
        assert all("不想活" not in m.body and "不想活" not in m.subject for m in messages)
        # The anonymous writer at risk is offered hotlines and a way to say who they are.
        page = response.content.decode()
        assert "12355" in page and "12320" in page and "help-urgent" in page
        reply_page = Client().post("/mailbox/read/", {"code": code}).content.decode()
        assert "12355" in reply_page and "/mailbox/read/identify/" in reply_page

    def test_harm_to_others_and_english_words_are_matched_too(self) -> None:
        assert self.letter("他再欺负我，我就和他同归于尽")[0].flagged
        assert self.letter("Sometimes I want to KILL MYSELF")[0].flagged
        assert not self.letter("考试压力好大，怎么调整")[0].flagged
        assert Message.objects.filter(kind="mailbox_flagged").count() == 2  # one per flagged letter

    def test_the_psych_teacher_sees_which_listed_words_matched(self) -> None:
        letter, _ = self.letter(RISK)
        page = self.client_for(self.w.psych_a).get(f"/letters/{letter.uid}/").content.decode()
        assert "不想活" in page.split('id="triage"')[1]

    def test_the_anonymous_writer_may_choose_to_identify_themselves(self) -> None:
        _, code = self.post_letter(body=RISK)
        page = (
            Client()
            .post(
                "/mailbox/read/identify/",
                {"code": code, "signed_name": "张小明", "signed_class": "四年级1班"},
            )
            .content.decode()
        )
        assert 'data-testid="identified"' in page
        letter = Letter.objects.get()
        assert letter.signature == Signature.SIGNED and letter.signed_name == "张小明"
        assert letter.student is None  # the psych teacher still links it by hand
        assert Message.objects.filter(kind="mailbox_flagged").count() == 2


class StaffMailboxTest(MailboxTestCase):
    def test_the_psych_teacher_lists_and_reads_their_schools_letters(self) -> None:
        letter, _ = self.letter()
        other = services.send_letter(school=self.w.school_b, body="乙校的信", signature=Signature.ANONYMOUS)
        client = self.client_for(self.w.psych_a)
        page = client.get("/letters/").content.decode()
        assert str(letter.uid) in page and str(other.letter.uid) not in page
        assert f"/mailbox/{self.w.school_a.code}/" in page  # the address for the posters
        detail = client.get(f"/letters/{letter.uid}/").content.decode()
        assert SECRET in detail
        row = AuditEntry.objects.filter(action=Action.VIEW, object_id=str(letter.uid)).get()
        assert row.user_id == self.w.psych_a.pk and row.student_id is None
        assert "心理信箱" in client.get("/").content.decode() or "Mailbox" in client.get("/").content.decode()

    def test_other_roles_and_schools_get_404_and_a_denied_row(self) -> None:
        letter, _ = self.letter()
        url = f"/letters/{letter.uid}/"
        self.assert_denied(self.client_for(self.w.psych_b), url)
        for user in (
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.leader_a,
            self.w.district_admin,
            self.w.centre_expert,
        ):
            with self.subTest(user=user.username):
                self.assert_denied(self.client_for(user), url)
                self.assert_denied(self.client_for(user), "/letters/")
                self.assert_denied(self.client_for(user), f"{url}reply/", "post", {"body": "x"})
        self.assert_denied(self.client_for(self.w.psych_b), f"{url}reply/", "post", {"body": "x"})
        assert not Reply.objects.exists()
        anon = Client().get("/letters/")
        assert anon.status_code == 302 and anon["Location"].startswith("/login/")

    def test_overdue_letters_are_red_on_the_list_and_the_home_page(self) -> None:
        late, _ = self.letter("上周写的信")
        fresh, _ = self.letter("今天写的信")
        Letter.objects.filter(pk=late.pk).update(reply_due=timezone.now() - dt.timedelta(hours=1))
        client = self.client_for(self.w.psych_a)
        listing = client.get("/letters/").content.decode()
        overdue_rows = re.findall(r'<tr class="overdue" data-overdue="1">(.*?)</tr>', listing, flags=re.S)
        assert len(overdue_rows) == 1 and str(late.uid) in overdue_rows[0]
        home = client.get("/").content.decode()
        section = home.split('data-list="letters-awaiting"')[1]
        assert str(late.uid) in section and str(fresh.uid) in section
        assert re.search(r'class="overdue" data-overdue="1">.*?' + str(late.uid), home, flags=re.S)
        # Replying takes it off the list.
        client.post(f"/letters/{late.uid}/reply/", {"body": "抱歉回晚了"})
        assert Letter.objects.get(pk=late.pk).status == LetterStatus.REPLIED
        assert str(late.uid) not in client.get("/").content.decode()
        # The class teacher's home has no mailbox section.
        assert "letters-awaiting" not in self.client_for(self.w.class_teacher_a41).get("/").content.decode()

    def test_manual_flag_note_and_close_are_audited(self) -> None:
        letter, _ = self.letter()
        client = self.client_for(self.w.psych_a)
        client.post(f"/letters/{letter.uid}/flag/", {"flagged": "1"})
        client.post(f"/letters/{letter.uid}/note/", {"note": "需要关注"})
        letter.refresh_from_db()
        assert letter.flagged and letter.flag_reason == FlagReason.MANUAL and letter.note == "需要关注"
        client.post(f"/letters/{letter.uid}/close/")
        assert Letter.objects.get(pk=letter.pk).status == LetterStatus.CLOSED
        details = set(
            AuditEntry.objects.filter(object_id=str(letter.uid), action=Action.UPDATE).values_list(
                "detail", flat=True
            )
        )
        assert details == {"flagged", "note", "closed"}

    def test_an_anonymous_letter_can_never_be_linked_or_raise_a_warning(self) -> None:
        letter, _ = self.letter(RISK)
        client = self.client_for(self.w.psych_a)
        client.post(f"/letters/{letter.uid}/link/", {"student": str(self.w.student_a41.uid)})
        client.post(f"/letters/{letter.uid}/warning/", {"level": "urgent"})
        letter.refresh_from_db()
        assert letter.student is None and letter.warning is None
        assert not Warning.objects.exists()

    def test_a_flagged_signed_letter_becomes_a_warning_through_care(self) -> None:
        letter, _ = self.letter(
            RISK, signature=Signature.SIGNED, signed_name="张小明", signed_class="四年级1班"
        )
        client = self.client_for(self.w.psych_a)
        page = client.get(f"/letters/{letter.uid}/").content.decode()
        assert self.w.student_a41.student_no in page  # the candidate with the signed name
        # Warning before linking is refused.
        client.post(f"/letters/{letter.uid}/warning/", {"level": "urgent"})
        assert not Warning.objects.exists()
        client.post(f"/letters/{letter.uid}/link/", {"student": str(self.w.student_a41.uid)})
        client.post(f"/letters/{letter.uid}/warning/", {"level": "urgent"})
        letter.refresh_from_db()
        warning = Warning.objects.get(student=self.w.student_a41)
        assert letter.warning == warning and warning.level == "urgent"
        signal = Signal.objects.get(warning=warning)
        assert signal.source == "mailbox_letter" and signal.ref == str(letter.uid)
        assert signal.code == "mailbox:self_harm"
        assert AuditEntry.objects.filter(
            object_id=str(letter.uid), student=self.w.student_a41, detail="linked to student"
        ).exists()

    def test_an_unflagged_letter_raises_no_warning_and_other_schools_students_cannot_be_linked(self) -> None:
        letter, _ = self.letter(SECRET, signature=Signature.SIGNED, signed_name="孙小强")
        client = self.client_for(self.w.psych_a)
        self.assert_denied(
            client, f"/letters/{letter.uid}/link/", "post", {"student": str(self.w.student_b41.uid)}
        )
        assert Letter.objects.get(pk=letter.pk).student is None
        client.post(f"/letters/{letter.uid}/link/", {"student": str(self.w.student_a41.uid)})
        client.post(f"/letters/{letter.uid}/warning/", {"level": "high"})
        assert not Warning.objects.exists()

    def test_the_class_teacher_sees_no_letter_anywhere(self) -> None:
        letter, _ = self.letter(RISK, signature=Signature.SIGNED, signed_name="张小明")
        services.link_student(by=self.w.psych_a, letter=letter, student=self.w.student_a41)
        client = self.client_for(self.w.class_teacher_a41)
        for url in ("/", f"/students/{self.w.student_a41.uid}/"):
            text = visible_text(client.get(url).content.decode())
            assert "不想活" not in text and "信箱" not in text and "Mailbox" not in text, url


class StudentKeyLetterTest(MailboxTestCase):
    """A student with the counselling room's key (printed by the class teacher) sends an
    identified letter: it is linked to them at once and joins their file."""

    def test_a_letter_sent_with_the_student_key_is_linked_to_the_student(self) -> None:
        from xinyu.counselling import services as counselling

        keys = counselling.issue_keys(by=self.w.class_teacher_a41, school_class=self.w.class_a41)
        key = next(k for k in keys if k.student_id == self.w.student_a41.pk)
        response, code = self.post_letter(body=RISK, signature="student_key", student_key=key.code.lower())
        assert code, response.content.decode()
        letter = Letter.objects.get()
        assert letter.signature == Signature.STUDENT_KEY and letter.student == self.w.student_a41
        created = AuditEntry.objects.get(object_id=str(letter.uid), action=Action.CREATE)
        assert created.student_id == self.w.student_a41.pk and created.ip is None
        # The flagged, identified letter can become a warning straight away.
        self.client_for(self.w.psych_a).post(f"/letters/{letter.uid}/warning/", {"level": "urgent"})
        assert Warning.objects.get(student=self.w.student_a41).level == "urgent"

    def test_a_wrong_or_foreign_key_stores_nothing_and_counts_as_a_wrong_code(self) -> None:
        from xinyu.counselling import services as counselling

        keys = counselling.issue_keys(by=self.w.psych_b, school_class=self.w.class_b41)
        response, code = self.post_letter(body=SECRET, signature="student_key", student_key=keys[0].code)
        assert not code and 'role="alert"' in response.content.decode()  # school B's key at school A
        response, code = self.post_letter(body=SECRET, signature="student_key", student_key="ZZZZZZZZ")
        assert not code and not Letter.objects.exists()
        assert cache.get("wrong-code:mailbox:10.9.8.7") == 2


class MailboxContractTest(MailboxTestCase):
    """One error type (Chinese, English, the field), `by` as the actor, forms in the views."""

    def test_refusals_carry_both_languages_and_the_field(self) -> None:
        from xinyu.kernel.errors import ServiceError

        letter, _ = self.letter(SECRET)
        cases = [
            (
                lambda: services.send_letter(
                    school=self.w.school_a, body="  ", signature=Signature.ANONYMOUS
                ),
                "body",
            ),
            (
                lambda: services.send_letter(
                    school=self.w.school_a, body="x" * 5001, signature=Signature.ANONYMOUS
                ),
                "body",
            ),
            (
                lambda: services.send_letter(school=self.w.school_a, body="x", signature=Signature.SIGNED),
                "signed_name",
            ),
            (lambda: services.reply(by=self.w.psych_a, letter=letter, body=""), "body"),
            (lambda: services.raise_warning(by=self.w.psych_a, letter=letter, level="nonsense"), "level"),
            (lambda: services.identify_myself(letter=letter, name=" ", school_class=""), "signed_name"),
        ]
        for call, field in cases:
            with self.subTest(field=field):
                try:
                    call()
                except ServiceError as error:
                    assert error.field == field, (error.field, field)
                    assert error.zh and error.en and error.zh != error.en
                else:
                    raise AssertionError(f"not refused: {field}")
        assert issubclass(services.DuplicateLetter, ServiceError)
        assert not hasattr(services, "MailboxError")

    def test_a_bad_warning_level_is_a_bilingual_message_not_a_warning(self) -> None:
        letter, _ = self.letter(RISK, signature=Signature.SIGNED, signed_name="张小明")
        services.link_student(by=self.w.psych_a, letter=letter, student=self.w.student_a41)
        client = self.client_for(self.w.psych_a)
        page = client.post(f"/letters/{letter.uid}/warning/", {"level": "nonsense"}, follow=True)
        assert "请选择有效的预警级别 / Please choose a valid warning level" in page.content.decode()
        assert not Warning.objects.exists()
        client.post(f"/letters/{letter.uid}/warning/", {})  # no level: urgent, as before
        assert Warning.objects.get().level == "urgent"

    def test_staff_rows_name_the_role_the_service_derives(self) -> None:
        anonymous, _ = self.letter(SECRET)
        services.save_note(by=self.w.psych_a, letter=anonymous, note="n")
        signed, _ = self.letter(RISK, signature=Signature.SIGNED, signed_name="张小明")
        services.link_student(by=self.w.psych_a, letter=signed, student=self.w.student_a41)
        rows = AuditEntry.objects.filter(username="psych_a", action=Action.UPDATE)
        note = rows.get(object_id=str(anonymous.uid))
        linked = rows.get(object_id=str(signed.uid))
        assert (note.role, note.student_id, note.school_id) == ("psych_teacher", None, self.w.school_a.pk)
        assert (linked.role, linked.student_id) == ("psych_teacher", self.w.student_a41.pk)

    def test_an_unknown_signature_is_read_as_anonymous(self) -> None:
        response, code = self.post_letter(body=SECRET, signature="forged", signed_name="张小明")
        assert code, response.content.decode()[-500:]
        letter = Letter.objects.get()
        assert letter.signature == Signature.ANONYMOUS and letter.signed_name == ""


class MailboxDemoTest(MailboxTestCase):
    def test_the_demo_letters_go_to_the_demo_school_once(self) -> None:
        from xinyu.mailbox.demo import LETTERS, build_demo_mailbox
        from xinyu.org.demo import SCHOOL_X

        district = self.w.school_a.district
        assert build_demo_mailbox(district) == 0  # the personas' district has no demo school
        self.w.school_a.name = SCHOOL_X
        self.w.school_a.save(update_fields=["name"])
        assert build_demo_mailbox(district) == len(LETTERS) == 3
        assert Letter.objects.filter(school=self.w.school_a, flagged=True).count() == 1
        assert Letter.objects.get(signature=Signature.SIGNED).signed_name
        assert build_demo_mailbox(district) == 0
