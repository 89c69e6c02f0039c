"""Celery entry point for the figures rollup (scheduled by beat every FIGURES_ROLLUP_INTERVAL seconds)."""

from celery import shared_task

from backend.figures import rollup as figures_rollup


@shared_task(name="figures.rollup")
def rollup():
    return figures_rollup.rollup()
