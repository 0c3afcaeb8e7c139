"""Encryption at rest (issue 11 item 4, docs/SECURITY.md): answers are sealed per row,
scores and the full results Fernet-encrypted, tiers, bands and the critical / re-test flags
keyed tokens (the aggregates still filter and group on them in SQL). Existing rows are
sealed here and cleared again when reversed. SQLite rebuilds the three tables, which would
drop their triggers (the consent checks of 0006): they are kept and put back."""

from django.db import migrations

import xinyu.crypto

TABLES = ("screening_invitation", "screening_answer", "screening_result")
BEFORE, AFTER = xinyu.crypto.keep_triggers(*TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0006_consent_in_data_layer"),
    ]

    operations = [
        BEFORE,
        migrations.AlterField(
            model_name="answer",
            name="value",
            field=xinyu.crypto.RowTokenIntegerField(context_fields=["invitation", "instrument", "item"]),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="critical",
            field=xinyu.crypto.TokenBooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="needs_retest",
            field=xinyu.crypto.TokenBooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="tier",
            field=xinyu.crypto.TokenField(blank=True, width=20),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="tier_reasons",
            field=xinyu.crypto.EncryptedJSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name="result",
            name="concern",
            field=xinyu.crypto.EncryptedIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="result",
            name="critical",
            field=xinyu.crypto.TokenBooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="result",
            name="data",
            field=xinyu.crypto.EncryptedJSONField(),
        ),
        migrations.AlterField(
            model_name="result",
            name="primary_band",
            field=xinyu.crypto.TokenField(blank=True, width=30),
        ),
        migrations.AlterField(
            model_name="result",
            name="primary_raw",
            field=xinyu.crypto.EncryptedFloatField(null=True),
        ),
        xinyu.crypto.encrypt_migration(
            "screening",
            {
                "Invitation": ["tier", "tier_reasons", "needs_retest", "critical"],
                "Answer": ["value"],
                "Result": ["primary_raw", "primary_band", "concern", "critical", "data"],
            },
        ),
        AFTER,
    ]
