# The students' booking codes move to xinyu.org (org.0003_studentkey), which the mailbox may
# read too. State only: the table counselling_studentkey stays as it is (no SQL at all, on
# SQLite or PostgreSQL); org's model keeps its name with Meta.db_table.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("counselling", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StudentKey")],
            database_operations=[],
        ),
    ]
