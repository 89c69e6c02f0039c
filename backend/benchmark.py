"""The no-op Celery task the B_celery baseline publishes (issue 12); see miniprogram_api/bench/routes.py."""

from celery import shared_task


@shared_task(name="benchmark.noop")
def noop():
    """Does nothing: the baseline measures the publish, not the work."""
