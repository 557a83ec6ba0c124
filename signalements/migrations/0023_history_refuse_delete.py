from django.db import migrations

# The history is evidence of what the city did and when: rows are never deleted either (0002 refuses
# updates). Retention anonymises contact data; it does not erase the history. TRUNCATE (the test
# database's flush) fires no row trigger.
FORWARD = """
CREATE FUNCTION signalements_statuschange_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'status history is append-only: row % cannot be deleted, nor the report it belongs to', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER statuschange_never_deleted BEFORE DELETE ON signalements_statuschange
    FOR EACH ROW EXECUTE FUNCTION signalements_statuschange_never_deleted();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS statuschange_never_deleted ON signalements_statuschange;
DROP FUNCTION IF EXISTS signalements_statuschange_never_deleted();
"""


class Migration(migrations.Migration):
    dependencies = [("signalements", "0022_idempotency_scope")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
