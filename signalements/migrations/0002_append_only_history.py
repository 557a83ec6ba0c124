from django.db import migrations

# The status history is evidence of what the city did and when: rows are never edited.
FORWARD = """
CREATE FUNCTION signalements_statuschange_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'status history is append-only (row %)', OLD.id USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER statuschange_append_only BEFORE UPDATE ON signalements_statuschange
    FOR EACH ROW EXECUTE FUNCTION signalements_statuschange_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS statuschange_append_only ON signalements_statuschange;
DROP FUNCTION IF EXISTS signalements_statuschange_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("signalements", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
