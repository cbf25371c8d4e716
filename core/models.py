"""Models of the shared kernel: accounts, API tokens, audit log, calendar, allowlists, scheduler lease."""
from __future__ import annotations

from peewee import (
    AutoField, BooleanField, CharField, DateField, DateTimeField, IntegerField, TextField,
)

from core import clock
from core.db import BaseModel

ROLES = ("staff", "manager", "admin")
ROLE_LABELS = {"staff": "スタッフ", "manager": "マネージャー", "admin": "管理者"}


class User(BaseModel):
    id = AutoField()
    username = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=100, default="")
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, default="staff")
    failed_logins = IntegerField(default=0)
    locked_at = DateTimeField(null=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=clock.now)
    last_login_at = DateTimeField(null=True)
    # Every session carries the value it began with; raising it ends all of the user's sessions (web.sessions).
    session_version = IntegerField(default=0)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    def has_role(self, minimum: str) -> bool:
        """Roles are nested: an admin may do what a manager may, a manager what staff may."""
        return ROLES.index(self.role) >= ROLES.index(minimum)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and not self.is_locked

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What a session stores: the id with the session version, so a raised version refuses old cookies."""
        return f"{self.id}:{self.session_version}"

    @classmethod
    def admins(cls):
        return cls.select().where(cls.role == "admin", cls.active == True)  # noqa: E712


class ApiToken(BaseModel):
    id = AutoField()
    label = CharField(max_length=100)
    token_hash = CharField(max_length=64, unique=True)
    prefix = CharField(max_length=16)
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=clock.now)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    @classmethod
    def active(cls):
        return cls.select().where(cls.revoked_at.is_null())


class AuditLog(BaseModel):
    id = AutoField()
    at = DateTimeField(default=clock.now, index=True)
    actor = CharField(max_length=64, default="")
    ip = CharField(max_length=64, default="")
    action = CharField(max_length=64)
    target = CharField(max_length=200, default="")
    detail = TextField(default="")


class CompanyHoliday(BaseModel):
    day = DateField(primary_key=True)
    name = CharField(max_length=100, default="")


class IpAllowRule(BaseModel):
    """A CIDR allowed to log in ("login") or to change anything ("update"). No rules: everyone."""

    id = AutoField()
    scope = CharField(max_length=16)
    cidr = CharField(max_length=64)
    note = CharField(max_length=200, default="")
    created_at = DateTimeField(default=clock.now)


class SchedulerLease(BaseModel):
    name = CharField(max_length=64, primary_key=True)
    holder = CharField(max_length=128)
    expires_at = DateTimeField()


class LoginThrottle(BaseModel):
    """Failed logins per client address in the current window, shared by every web process."""

    client = CharField(max_length=64, primary_key=True)
    window_start = DateTimeField(index=True)
    attempts = IntegerField(default=0)


class JobRun(BaseModel):
    """Last run of each scheduled job, so a run missed while everything was down can be caught up."""

    job_id = CharField(max_length=64, primary_key=True)
    last_run_at = DateTimeField()
    last_result = TextField(default="")
