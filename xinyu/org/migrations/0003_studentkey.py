# Students' booking codes (StudentKey), moved here from counselling (counselling.0002) so that
# the counselling room's page and the mailbox look codes up in one low module. State only:
# the table keeps its name counselling_studentkey, its columns, indexes and constraint.

import django.db.models.deletion
import xinyu.org.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0002_importbatch"),
        ("counselling", "0002_studentkey_moves_to_org"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StudentKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "code",
                            models.CharField(
                                default=xinyu.org.models.new_student_key, max_length=8, unique=True
                            ),
                        ),
                        ("issued_at", models.DateTimeField()),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "issued_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "student",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="counselling_keys",
                                to="org.student",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "counselling_studentkey",
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("revoked_at__isnull", True)),
                                fields=("student",),
                                name="one_active_key_per_student",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
