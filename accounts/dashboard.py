"""The operator dashboard (api.md A11): live aggregates in a small, fixed number of queries (one per table)."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from candidates.models import STAGES_BY_AI_STATUS, Availability, Batch, Candidate, Quality, Source, Stage
from candidates.selectors import annotate_batch_stats, stats_of
from organizations.models import Contact, Organization
from outreach.models import OutreachMessage, Suppression


def _candidate_counts(now) -> dict:
    """Every per-candidate figure in ONE aggregate query."""
    counts = {
        "total": Count("id"),
        "emailed": Count("id", filter=Q(contacts_emailed_count__gt=0)),
        "last_7_days": Count("id", filter=Q(created_at__gte=now - timedelta(days=7))),
        "last_30_days": Count("id", filter=Q(created_at__gte=now - timedelta(days=30))),
        "manual_review_done": Count(
            "id", filter=Q(quality_status=Quality.MANUAL, processing_stage=Stage.DONE)
        ),
        "regeneration_errors": Count("id", filter=~Q(pdf_regeneration_error="")),
    }
    for status, stages in STAGES_BY_AI_STATUS.items():
        counts[f"ai_{status}"] = Count("id", filter=Q(processing_stage__in=stages))
    for value in Quality.values:
        counts[f"quality_{value}"] = Count("id", filter=Q(quality_status=value))
    for value in Availability.values:
        counts[f"availability_{value}"] = Count("id", filter=Q(availability_status=value))
    for value in Source.values:
        counts[f"source_{value}"] = Count("id", filter=Q(source=value))
    return Candidate.objects.aggregate(**counts)


def _outreach_counts(now) -> dict:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    sent = Q(status=OutreachMessage.Status.SENT)
    delivery = OutreachMessage.Delivery
    return OutreachMessage.objects.aggregate(
        sent=Count("id", filter=sent),
        sent_today=Count("id", filter=sent & Q(sent_at__gte=today)),
        sent_last_7_days=Count("id", filter=sent & Q(sent_at__gte=now - timedelta(days=7))),
        failed=Count("id", filter=Q(status=OutreachMessage.Status.FAILED)),
        delivered=Count("id", filter=Q(delivery_status=delivery.DELIVERED)),
        bounced=Count("id", filter=Q(delivery_status__in=[delivery.BOUNCED, delivery.DROPPED])),
        spam_reports=Count("id", filter=Q(delivery_status=delivery.SPAM_REPORT)),
        unsubscribed=Count("id", filter=Q(delivery_status=delivery.UNSUBSCRIBED)),
    )


def dashboard() -> dict:
    now = timezone.now()
    c = _candidate_counts(now)
    batches = Batch.objects.aggregate(
        total=Count("id"),
        uploaded=Sum("uploaded_count"),
        unfinished=Count("id", filter=Q(finished_at__isnull=True)),
    )
    recent = [
        (batch, stats_of(batch)) for batch in annotate_batch_stats(Batch.objects.order_by("-created_at"))[:5]
    ]
    orgs = Organization.objects.aggregate(
        total=Count("id"), geocoded=Count("id", filter=Q(latitude__isnull=False))
    )
    phases = dict(Organization.objects.values_list("phase").annotate(n=Count("id")).order_by())
    contacts = Contact.objects.count()
    outreach = _outreach_counts(now)
    suppressed = Suppression.objects.count()

    uploaded = batches["uploaded"] or 0
    processed = c["ai_completed"]
    return {
        "summary": {
            "total_candidates": c["total"],
            "total_uploaded": uploaded,
            "total_processed": processed,
            "total_failed": c["ai_failed"],
            "success_rate": round(processed / uploaded * 100, 1) if uploaded else 0,
            "total_batches": batches["total"],
            "batches_in_progress": batches["unfinished"],
            "emailed_candidates": c["emailed"],
            "total_emails_sent": outreach["sent"],
            "total_organizations": orgs["total"],
            "total_contacts": contacts,
        },
        "quality": {
            "passed": c["quality_passed"],
            "failed": c["quality_failed"],
            "pending": c["quality_pending"],
            "manual_review": c["quality_manual"],
        },
        "ai_processing": {status: c[f"ai_{status}"] for status in STAGES_BY_AI_STATUS},
        "availability": {value: c[f"availability_{value}"] for value in Availability.values},
        "sources": {value: c[f"source_{value}"] for value in Source.values},
        "recent_activity": {
            "new_candidates_last_7_days": c["last_7_days"],
            "new_candidates_last_30_days": c["last_30_days"],
        },
        "organizations": {
            "total": orgs["total"],
            "total_contacts": contacts,
            "geocoded": orgs["geocoded"],
            "not_geocoded": orgs["total"] - orgs["geocoded"],
            "geocoded_share": round(orgs["geocoded"] / orgs["total"] * 100, 1) if orgs["total"] else 0,
            "phase_breakdown": phases,
        },
        "recent_batches": [
            {
                "id": str(batch.id),
                "total_count": stats.total,
                "processed_count": stats.processed,
                "failed_count": stats.failed,
                "progress": stats.progress_percentage,
                "status": stats.status,
                "created_at": batch.created_at,
            }
            for batch, stats in recent
        ],
        "outreach": {
            "sent": outreach["sent"],
            "sent_today": outreach["sent_today"],
            "sent_last_7_days": outreach["sent_last_7_days"],
            "failed": outreach["failed"],
            "delivered": outreach["delivered"],
            "bounced": outreach["bounced"],
            "spam_reports": outreach["spam_reports"],
            "unsubscribed": outreach["unsubscribed"],
            "suppressed_addresses": suppressed,
        },
        "attention": {
            "failed_candidates": c["ai_failed"],
            "manual_review": c["manual_review_done"],
            "pdf_regeneration_errors": c["regeneration_errors"],
            "failed_emails": outreach["failed"],
        },
    }
