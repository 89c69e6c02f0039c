"""Celery entry point for purging expired refresh tokens and their empty families (via beat)."""

from celery import shared_task

from backend.accounts import tokens


@shared_task(name="accounts.purge_expired_tokens")
def purge_expired_tokens():
    return tokens.purge_expired()
