from celery import shared_task

from . import storage


@shared_task(name="cvengine.cleanup_files", queue="default", retry_base=60, max_retries=5, time_limit=300)
def cleanup_files(names: list[str], prefixes: list[str] | None = None) -> int:
    """Delete stored files (and every file under each folder prefix) after their owner is gone.

    A missing file counts as success, so the task is safe to run twice.
    """
    return storage.delete_files(names, prefixes or ())
