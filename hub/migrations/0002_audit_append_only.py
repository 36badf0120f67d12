"""On PostgreSQL the audit trail is append-only in the database too, not only in the ORM."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION hub_audit_event_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hub_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hub_audit_event_append_only
    BEFORE UPDATE OR DELETE ON hub_auditevent
    FOR EACH ROW EXECUTE FUNCTION hub_audit_event_forbid_change();
"""
ALLOW = """
DROP TRIGGER IF EXISTS hub_audit_event_append_only ON hub_auditevent;
DROP FUNCTION IF EXISTS hub_audit_event_forbid_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("hub", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
