from django.db import migrations


def load(apps, schema_editor):
    from haopin.core import reference

    reference.load(apps)


def head(apps, schema_editor):
    AuditHead = apps.get_model("core", "AuditHead")
    AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(head, migrations.RunPython.noop),
    ]
