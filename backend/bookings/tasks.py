"""Background jobs of bookings: slot generation and the day-before reminders (explicit names, idempotent)."""

from celery import shared_task


@shared_task(name="bookings.generate_slots")
def generate_slots():
    """Slots for every active service's booking window (idempotent)."""
    from backend.bookings import slots

    return slots.generate_all()


@shared_task(name="bookings.send_reminders")
def send_reminders():
    """The day-before reminders through the notification pipeline (idempotent: each booking is reminded once)."""
    from backend.bookings import reminders

    return reminders.send_due()


@shared_task(name="bookings.close_ended")
def close_ended():
    """Bookings nobody closed at the counter, once their slot ended long enough ago (idempotent)."""
    from backend.bookings import closing

    return closing.close_ended()
