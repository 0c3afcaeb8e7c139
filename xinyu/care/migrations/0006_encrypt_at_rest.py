"""Encryption at rest (issue 11 item 4, docs/SECURITY.md): warning and signal levels, case and
checklist tiers, case outcomes and re-check results become keyed tokens (the inbox, ledger
and escalation queries still filter and group on them in SQL); free text that may name or
quote a student (crisis titles, task requests, closing reasons, event details, signal codes,
concern triggers) is Fernet-encrypted. Existing rows are sealed here, cleared when reversed."""

from django.db import migrations

import xinyu.crypto

BEFORE, AFTER = xinyu.crypto.keep_triggers(
    "care_warning",
    "care_warningevent",
    "care_signal",
    "care_task",
    "care_concern",
    "care_case",
    "care_caseaction",
    "care_caseevent",
    "care_recheckentry",
    "care_crisisevent",
)


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0005_warning_status_label"),
    ]

    operations = [
        BEFORE,
        migrations.AlterField(
            model_name="case",
            name="outcome",
            field=xinyu.crypto.TokenField(
                blank=True,
                choices=[
                    ("improved", "Improved, no further intervention needed"),
                    ("stable", "Stable with support"),
                    ("referred", "In treatment outside the school"),
                    ("left_school", "Left the school"),
                    ("other", "Other"),
                ],
                width=12,
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="tier",
            field=xinyu.crypto.TokenField(
                choices=[
                    ("general", "General problem (一般心理问题)"),
                    ("serious", "Serious conflict (较严重心理冲突)"),
                    ("severe", "Severe abnormality or crisis (严重心理异常/心理危机)"),
                ],
                width=10,
            ),
        ),
        migrations.AlterField(
            model_name="caseaction",
            name="tier",
            field=xinyu.crypto.TokenField(
                choices=[
                    ("general", "General problem (一般心理问题)"),
                    ("serious", "Serious conflict (较严重心理冲突)"),
                    ("severe", "Severe abnormality or crisis (严重心理异常/心理危机)"),
                ],
                width=10,
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="detail",
            field=xinyu.crypto.EncryptedTextField(blank=True, default="", max_length=300),
        ),
        migrations.AlterField(
            model_name="concern",
            name="triggers",
            field=xinyu.crypto.EncryptedJSONField(default=list),
        ),
        migrations.AlterField(
            model_name="crisisevent",
            name="title",
            field=xinyu.crypto.EncryptedTextField(max_length=100),
        ),
        migrations.AlterField(
            model_name="recheckentry",
            name="result",
            field=xinyu.crypto.TokenField(
                choices=[
                    ("pending", "Not checked yet"),
                    ("stable", "Seems well"),
                    ("concern", "Worried: tell the psych teacher"),
                ],
                default="pending",
                width=8,
            ),
        ),
        migrations.AlterField(
            model_name="signal",
            name="code",
            field=xinyu.crypto.TokenField(blank=True, width=200),
        ),
        migrations.AlterField(
            model_name="signal",
            name="level",
            field=xinyu.crypto.TokenField(
                choices=[("watch", "Watch"), ("high", "High"), ("urgent", "Urgent")], width=10
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="request",
            field=xinyu.crypto.EncryptedTextField(blank=True, default="", max_length=300),
        ),
        migrations.AlterField(
            model_name="warning",
            name="close_reason",
            field=xinyu.crypto.EncryptedTextField(blank=True, default="", max_length=300),
        ),
        migrations.AlterField(
            model_name="warning",
            name="level",
            field=xinyu.crypto.TokenField(
                choices=[("watch", "Watch"), ("high", "High"), ("urgent", "Urgent")], width=10
            ),
        ),
        migrations.AlterField(
            model_name="warningevent",
            name="detail",
            field=xinyu.crypto.EncryptedTextField(blank=True, default="", max_length=200),
        ),
        migrations.AlterField(
            model_name="warningevent",
            name="level",
            field=xinyu.crypto.TokenField(
                choices=[("watch", "Watch"), ("high", "High"), ("urgent", "Urgent")], width=10
            ),
        ),
        xinyu.crypto.encrypt_migration(
            "care",
            {
                "Warning": ["level", "close_reason"],
                "WarningEvent": ["level", "detail"],
                "Signal": ["level", "code"],
                "Task": ["request"],
                "Concern": ["triggers"],
                "Case": ["tier", "outcome"],
                "CaseAction": ["tier"],
                "CaseEvent": ["detail"],
                "RecheckEntry": ["result"],
                "CrisisEvent": ["title"],
            },
        ),
        AFTER,
    ]
