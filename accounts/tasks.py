"""Account tasks: the password-reset e-mail and periodic clean-ups (listed in cvengine.celery beat_schedule)."""

from celery import shared_task

from . import activity, services


@shared_task(
    name="accounts.send_password_reset_otp", queue="email", retry_base=60, max_retries=3, time_limit=90
)
def send_password_reset_otp(otp_id: str) -> bool:
    return services.send_password_reset_otp(otp_id)


@shared_task(name="accounts.purge_activity", queue="default", time_limit=60)
def purge_activity() -> int:
    return activity.purge_activity()


@shared_task(name="accounts.purge_password_resets", queue="default", time_limit=60)
def purge_password_resets() -> int:
    return services.purge_expired_resets()
