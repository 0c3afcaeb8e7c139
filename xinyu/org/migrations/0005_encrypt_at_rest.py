"""Encryption at rest (issue 11 item 4): guardians' phone numbers become Fernet tokens, the
key-population kind of a flag a keyed deterministic token (xinyu.crypto.TokenField), so the
active-flag filters, the one-active-flag-per-kind constraint and the GROUP BY of the
screening report still run in SQL. Existing rows are sealed here, and cleared when reversed."""

from django.db import migrations

import xinyu.crypto

BEFORE, AFTER = xinyu.crypto.keep_triggers("org_guardian", "org_studentflag")


class Migration(migrations.Migration):
    dependencies = [("org", "0004_account_security")]

    operations = [
        BEFORE,
        migrations.AlterField(
            model_name="guardian",
            name="phone",
            field=xinyu.crypto.EncryptedTextField(max_length=20, verbose_name="phone"),
        ),
        migrations.AlterField(
            model_name="studentflag",
            name="kind",
            field=xinyu.crypto.TokenField(
                choices=[
                    ("left_behind", "Left-behind child (留守)"),
                    ("single_parent", "Single-parent family (单亲)"),
                    ("poor_family", "Family in financial difficulty (家庭经济困难)"),
                    ("problem_family", "Family problems (问题家庭)"),
                    ("disability_illness", "Disability or serious illness (残疾或重病)"),
                    ("mental_history", "History of mental illness (精神疾病史)"),
                    ("academic", "Academic difficulty (学业困难)"),
                    ("psych_problem", "Psychological problems (心理问题)"),
                ],
                verbose_name="kind",
                width=24,
            ),
        ),
        xinyu.crypto.encrypt_migration("org", {"Guardian": ["phone"], "StudentFlag": ["kind"]}),
        AFTER,
    ]
