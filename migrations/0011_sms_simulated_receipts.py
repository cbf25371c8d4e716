"""The SMS simulator keeps its planned receipts in its own table (sms_simulated_receipt) instead of columns of
every production send attempt; receipts still pending at the upgrade move across and play back as before."""
from peewee import AutoField, CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    class SimulatedReceipt(Model):
        class Meta:
            database = db
            table_name = "sms_simulated_receipt"

        id = AutoField()
        provider_sid = CharField(max_length=64, unique=True)
        due_at = DateTimeField(index=True)
        status = CharField(max_length=20)
        error_code = IntegerField(null=True)

    db.create_tables([SimulatedReceipt])
    db.execute_sql(
        "INSERT INTO sms_simulated_receipt (provider_sid, due_at, status, error_code) "
        "SELECT provider_sid, sim_receipt_at, sim_receipt_status, sim_receipt_error FROM sms_attempt "
        "WHERE sim_receipt_at IS NOT NULL AND provider_sid IS NOT NULL")
    migrator.migrate(
        migrator.drop_index("sms_attempt", "sms_attempt_sim_receipt_at"),
        migrator.drop_column("sms_attempt", "sim_receipt_at"),
        migrator.drop_column("sms_attempt", "sim_receipt_status"),
        migrator.drop_column("sms_attempt", "sim_receipt_error"),
    )
