# Issue #20: the precomputed attainment per work order and month (the work-order overview
# reads it instead of aggregating the work order's incidents per request). The rows are
# derived data: emptied here and written again by the worker (refresh_attainment, every
# 5 minutes) or `manage.py refresh_aggregates`.
import django.db.models.deletion
from django.db import migrations, models


def empty(apps, schema_editor):
    apps.get_model("incidents", "AttainmentMonth").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0003_i18_contract_life"),
        ("incidents", "0012_i20_queue_search_index"),
    ]

    operations = [
        migrations.RunPython(empty, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="attainmentmonth", name="attainment_month_once"),
        migrations.AddField(
            model_name="attainmentmonth",
            name="work_order",
            field=models.ForeignKey(
                db_index=False,
                default=None,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="contracts.workorder",
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="attainmentmonth",
            constraint=models.UniqueConstraint(
                fields=("work_order", "month"), name="attainment_month_once_per_work_order"
            ),
        ),
        migrations.AddIndex(
            model_name="attainmentmonth",
            index=models.Index(fields=["month", "customer"], name="attainment_dashboard_idx"),
        ),
    ]
