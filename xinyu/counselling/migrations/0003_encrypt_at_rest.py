"""Encryption at rest (issue 11 item 4, docs/SECURITY.md): the main-issue category and the risk
flags of a session become keyed tokens (the statistics group on them in SQL), a group
session's topic is Fernet-encrypted. Existing rows are sealed here, cleared when reversed."""

from django.db import migrations

import xinyu.crypto

BEFORE, AFTER = xinyu.crypto.keep_triggers("counselling_counsellingrecord", "counselling_groupsession")


class Migration(migrations.Migration):
    dependencies = [
        ("counselling", "0002_studentkey_moves_to_org"),
    ]

    operations = [
        BEFORE,
        migrations.AlterField(
            model_name="counsellingrecord",
            name="category",
            field=xinyu.crypto.TokenField(
                choices=[
                    ("learning", "Learning and exams (学习与考试)"),
                    ("emotion", "Emotions (情绪)"),
                    ("peers", "Friends and classmates (人际关系)"),
                    ("family", "Family (家庭)"),
                    ("adaptation", "Adapting to school (适应)"),
                    ("self", "Self and growing up (自我成长)"),
                    ("career", "Future and career (生涯)"),
                    ("behaviour", "Behaviour and habits (行为习惯)"),
                    ("other", "Other (其他)"),
                ],
                verbose_name="main issue (category)",
                width=12,
            ),
        ),
        migrations.AlterField(
            model_name="counsellingrecord",
            name="risk_harm_others",
            field=xinyu.crypto.TokenBooleanField(default=False, verbose_name="risk of harm to others"),
        ),
        migrations.AlterField(
            model_name="counsellingrecord",
            name="risk_self_harm",
            field=xinyu.crypto.TokenBooleanField(default=False, verbose_name="risk of self-harm"),
        ),
        migrations.AlterField(
            model_name="groupsession",
            name="category",
            field=xinyu.crypto.TokenField(
                choices=[
                    ("learning", "Learning and exams (学习与考试)"),
                    ("emotion", "Emotions (情绪)"),
                    ("peers", "Friends and classmates (人际关系)"),
                    ("family", "Family (家庭)"),
                    ("adaptation", "Adapting to school (适应)"),
                    ("self", "Self and growing up (自我成长)"),
                    ("career", "Future and career (生涯)"),
                    ("behaviour", "Behaviour and habits (行为习惯)"),
                    ("other", "Other (其他)"),
                ],
                verbose_name="main issue (category)",
                width=12,
            ),
        ),
        migrations.AlterField(
            model_name="groupsession",
            name="topic",
            field=xinyu.crypto.EncryptedTextField(max_length=200, verbose_name="topic"),
        ),
        xinyu.crypto.encrypt_migration(
            "counselling",
            {
                "CounsellingRecord": ["category", "risk_self_harm", "risk_harm_others"],
                "GroupSession": ["category", "topic"],
            },
        ),
        AFTER,
    ]
