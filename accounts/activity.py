"""The activity log: what other apps call to record events, and the per-user read state (api.md A12/A13).

Read state scales with users, not entries: ``User.activity_read_before`` marks everything up to a moment as read
(mark-all is one UPDATE), and ``ActivityRead`` rows record entries marked individually after that moment.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from .models import ActivityLog, ActivityRead, User

EventType = ActivityLog.EventType
Severity = ActivityLog.Severity
MARK_READ_MAX_IDS = 1000
_TITLE_MAX = ActivityLog._meta.get_field("title").max_length


def record_activity(
    event_type: str,
    *,
    title: str,
    message: str = "",
    severity: str = "info",
    actor: User | None = None,
    candidate_id: uuid.UUID | str | None = None,
    batch_id: uuid.UUID | str | None = None,
    organization_id: uuid.UUID | str | None = None,
) -> ActivityLog:
    """Write one activity entry (a single INSERT; retention is the periodic ``accounts.purge_activity``).

    ``event_type`` and ``severity`` must be values of ``ActivityLog.EventType`` / ``ActivityLog.Severity``;
    anything else is a programming error and raises ValueError. ``actor`` may be a user or None (system).
    """
    if event_type not in EventType.values:
        raise ValueError(f"Unknown activity event type: {event_type!r}")
    if severity not in Severity.values:
        raise ValueError(f"Unknown activity severity: {severity!r}")
    return ActivityLog.objects.create(
        event_type=event_type,
        severity=severity,
        title=title[:_TITLE_MAX],
        message=message or "",
        actor=actor if actor is not None and actor.is_authenticated else None,
        candidate_id=candidate_id,
        batch_id=batch_id,
        organization_id=organization_id,
    )


# --- selectors ----------------------------------------------------------------------------------------------


def _read_condition(user: User) -> Q:
    explicit = Exists(ActivityRead.objects.filter(user=user, activity=OuterRef("pk")))
    if user.activity_read_before is None:
        return Q(explicit)
    return Q(created_at__lte=user.activity_read_before) | Q(explicit)


def activity_for_user(
    user: User, *, severity: str | None = None, event_type: str | None = None, unread: bool | None = None
) -> QuerySet[ActivityLog]:
    """Entries newest first, each annotated with ``is_read`` for this user."""
    read = _read_condition(user)
    is_read = Case(When(read, then=Value(True)), default=Value(False), output_field=BooleanField())
    queryset = ActivityLog.objects.annotate(is_read=is_read).order_by("-created_at", "-id")
    if severity:
        queryset = queryset.filter(severity=severity)
    if event_type:
        queryset = queryset.filter(event_type=event_type)
    if unread is True:
        queryset = queryset.exclude(read)
    elif unread is False:
        queryset = queryset.filter(read)
    return queryset


def unread_count(user: User) -> int:
    return ActivityLog.objects.exclude(_read_condition(user)).count()


# --- read state -----------------------------------------------------------------------------------------------


def mark_read(user: User, ids: list[uuid.UUID] | None) -> int:
    """Mark the given entries (or, with no ids, everything) as read for ``user``; returns how many were unread."""
    if ids:
        with transaction.atomic():
            unread_ids = list(
                ActivityLog.objects.filter(pk__in=set(ids))
                .exclude(_read_condition(user))
                .values_list("pk", flat=True)
            )
            ActivityRead.objects.bulk_create(
                [ActivityRead(user=user, activity_id=pk) for pk in unread_ids], ignore_conflicts=True
            )
        return len(unread_ids)
    now = timezone.now()
    with transaction.atomic():
        count = unread_count(user)
        User.objects.filter(pk=user.pk).update(activity_read_before=now)
        # Rows for entries now covered by the timestamp are redundant: keep the table small.
        ActivityRead.objects.filter(user=user, activity__created_at__lte=now).delete()
    user.activity_read_before = now
    return count


# --- retention ------------------------------------------------------------------------------------------------


def purge_activity() -> int:
    """Delete entries older than ACTIVITY_RETENTION_DAYS and beyond the newest ACTIVITY_MAX_ENTRIES."""
    label = ActivityLog._meta.label
    _total, per_model = ActivityLog.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=settings.ACTIVITY_RETENTION_DAYS)
    ).delete()
    deleted = per_model.get(label, 0)  # entries only, not their cascaded read rows
    cap = settings.ACTIVITY_MAX_ENTRIES
    if cap > 0:
        boundary = list(
            ActivityLog.objects.order_by("-created_at", "-id").values_list("created_at", "id")[cap : cap + 1]
        )
        if boundary:
            created_at, pk = boundary[0]
            _total, per_model = ActivityLog.objects.filter(
                Q(created_at__lt=created_at) | Q(created_at=created_at, id__lte=pk)
            ).delete()
            deleted += per_model.get(label, 0)
    return deleted
