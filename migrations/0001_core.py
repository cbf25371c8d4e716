"""Core tables: accounts, API tokens, audit log, company holidays, IP allowlists, scheduler lease, job runs."""
import datetime

from peewee import (
    AutoField, BooleanField, CharField, DateField, DateTimeField, IntegerField, Model, TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        id = AutoField()
        username = CharField(max_length=64, unique=True)
        display_name = CharField(max_length=100, default="")
        password_hash = CharField(max_length=255)
        role = CharField(max_length=16, default="staff")
        failed_logins = IntegerField(default=0)
        locked_at = DateTimeField(null=True)
        active = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.now)
        last_login_at = DateTimeField(null=True)

    class ApiToken(Base):
        id = AutoField()
        label = CharField(max_length=100)
        token_hash = CharField(max_length=64, unique=True)
        prefix = CharField(max_length=16)
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.now)
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)

    class AuditLog(Base):
        id = AutoField()
        at = DateTimeField(index=True)
        actor = CharField(max_length=64, default="")
        ip = CharField(max_length=64, default="")
        action = CharField(max_length=64)
        target = CharField(max_length=200, default="")
        detail = TextField(default="")

    class CompanyHoliday(Base):
        day = DateField(primary_key=True)
        name = CharField(max_length=100, default="")

    class IpAllowRule(Base):
        id = AutoField()
        scope = CharField(max_length=16)
        cidr = CharField(max_length=64)
        note = CharField(max_length=200, default="")
        created_at = DateTimeField(default=datetime.datetime.now)

    class SchedulerLease(Base):
        name = CharField(max_length=64, primary_key=True)
        holder = CharField(max_length=128)
        expires_at = DateTimeField()

    class JobRun(Base):
        job_id = CharField(max_length=64, primary_key=True)
        last_run_at = DateTimeField()
        last_result = TextField(default="")

    db.create_tables([User, ApiToken, AuditLog, CompanyHoliday, IpAllowRule, SchedulerLease, JobRun])
