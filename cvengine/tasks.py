from celery import shared_task

from . import storage


@shared_task(name="cvengine.cleanup_files", queue="default", retry_base=60, max_retries=5, time_limit=300)
def cleanup_files(names: list[str]) -> int:
    """Delete stored files after their owner is gone; a missing file counts as success."""
    return storage.delete_files(names)
