"""The shared core's data. Each module holds one concern; import from here."""

from hub.models.audit import AuditEvent
from hub.models.credentials import ProviderCredential
from hub.models.jobs import Job, JobStatus
from hub.models.metering import MeteringPoint, MeteringPointKind, Site
from hub.models.mfa import (
    AuthFailure,
    AuthStage,
    EncryptedTOTPDevice,
    Lockout,
    LockScope,
    RecoveryCode,
    RecoveryCodeDevice,
)
from hub.models.mqtt import MqttBroker
from hub.models.notifications import Notification, Severity
from hub.models.polling import PollOutcome, PollRun
from hub.models.series import Aggregate, Point, Quality, Rollup, Series, SeriesKind
from hub.models.tenancy import Membership, Organisation, Role
from hub.models.tokens import ApiToken
from hub.models.users import User
from hub.models.webhooks import AbstractWebhookDelivery, DeliveryStatus

__all__ = [
    "AbstractWebhookDelivery",
    "Aggregate",
    "ApiToken",
    "AuditEvent",
    "AuthFailure",
    "AuthStage",
    "DeliveryStatus",
    "EncryptedTOTPDevice",
    "Job",
    "JobStatus",
    "LockScope",
    "Lockout",
    "Membership",
    "MeteringPoint",
    "MeteringPointKind",
    "MqttBroker",
    "Notification",
    "Organisation",
    "Point",
    "PollOutcome",
    "PollRun",
    "ProviderCredential",
    "Quality",
    "RecoveryCode",
    "RecoveryCodeDevice",
    "Role",
    "Rollup",
    "Series",
    "SeriesKind",
    "Severity",
    "Site",
    "User",
]
