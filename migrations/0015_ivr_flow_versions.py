"""IVR flow versions and drafts: every flow as it stands becomes its published version 1; calls remember the
version they started on (a call in progress finishes on it). Node columns are read as the database has them,
so a column added to ivr_node by an earlier migration is carried into the version under the same name."""
import datetime
import hashlib
import json

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField

# ivr_node column → the flow JSON's field (ivr.flowjson, as NodeSpec names them); others keep their names.
RENAMED = {"guidance_id": "guidance", "timeout_guidance_id": "timeout_guidance",
           "mis_entry_guidance_id": "mis_entry_guidance", "timeout_seconds": "timeout"}
SKIPPED = ("id", "flow_id", "position")


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Flow(Base):
        class Meta:
            table_name = "ivr_flow"

        id = AutoField()
        entry_key = CharField(max_length=40, default="")
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    class FlowVersion(Base):
        class Meta:
            table_name = "ivr_flow_version"
            indexes = ((("flow", "number"), True),)

        id = AutoField()
        flow = ForeignKeyField(Flow, on_delete="CASCADE")
        number = IntegerField(null=True)
        body = TextField()
        digest = CharField(max_length=64, index=True)
        created_at = DateTimeField(default=datetime.datetime.now)
        created_by = CharField(max_length=64, default="")
        restored_from = IntegerField(null=True)

    class FlowDraft(Base):
        class Meta:
            table_name = "ivr_flow_draft"

        id = AutoField()
        flow = ForeignKeyField(Flow, on_delete="CASCADE", unique=True)
        body = TextField()
        base_version_id = IntegerField(null=True)
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    db.create_tables([FlowVersion, FlowDraft])
    migrator.migrate(migrator.add_column("ivr_flow", "version_id", IntegerField(null=True)),
                     migrator.add_column("ivr_call", "flow_version_id", IntegerField(null=True)))
    for flow in Flow.select().order_by(Flow.id):
        body = json.dumps({"entry": flow.entry_key, "nodes": nodes_of(db, flow.id)}, ensure_ascii=False,
                          sort_keys=True)
        version = FlowVersion.create(flow=flow.id, number=1, body=body, digest=digest(body),
                                     created_at=flow.updated_at, created_by=flow.updated_by)
        db.execute_sql('UPDATE "ivr_flow" SET "version_id" = %s WHERE "id" = %s'.replace("%s", db.param),
                       (version.id, flow.id))


def nodes_of(db, flow_id):
    cursor = db.execute_sql('SELECT * FROM "ivr_node" WHERE "flow_id" = %s ORDER BY "position", "id"'
                            .replace("%s", db.param), (flow_id,))
    columns = [c[0] for c in cursor.description]
    nodes = []
    for row in cursor.fetchall():
        node = {}
        for column, value in zip(columns, row):
            if column in SKIPPED:
                continue
            if column in ("exits", "params"):
                value = json.loads(value or "{}")
            node[RENAMED.get(column, column)] = value
        nodes.append(node)
    return nodes


def digest(body):
    return hashlib.sha256(body.encode()).hexdigest()
