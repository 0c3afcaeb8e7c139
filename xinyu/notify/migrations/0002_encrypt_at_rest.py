"""Encryption at rest (issue 11 item 4, docs/SECURITY.md): a message's address (a guardian's
phone), subject and body (which may quote a student's case) are Fernet-encrypted. Existing
rows are sealed here, cleared when reversed."""

from django.db import migrations

import xinyu.crypto

BEFORE, AFTER = xinyu.crypto.keep_triggers(
    "notify_message",
)


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0001_initial"),
    ]

    operations = [
        BEFORE,
        migrations.AlterField(
            model_name="message",
            name="address",
            field=xinyu.crypto.EncryptedTextField(blank=True, default="", max_length=120),
        ),
        migrations.AlterField(
            model_name="message",
            name="body",
            field=xinyu.crypto.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="message",
            name="subject",
            field=xinyu.crypto.EncryptedTextField(max_length=200),
        ),
        xinyu.crypto.encrypt_migration("notify", {"Message": ["address", "subject", "body"]}),
        AFTER,
    ]
