"""Training objects for tests and the authorization matrix: a session at station X1 with one attendee, and a
responsible person at X1."""

from datetime import date


def session(w, unit=None, kind="business", hours_tenths=35, held_on=date(2024, 3, 5), topic="业务培训"):
    from backend.training import service

    return service.create_session(
        actor=w.staff_x,
        unit_id=(unit or w.x1).id,
        kind=kind,
        topic=topic,
        held_on=held_on,
        hours_tenths=hours_tenths,
        trainer="王老师",
    )


def matrix_session(w):
    if "training_session" not in w.objects:
        from backend.training import service

        s = session(w)
        w.objects["training_attendance"] = service.add_attendee(
            actor=w.staff_x, session_id=s.id, staff_id=w.target.id, result="pass", score=90
        )
        w.objects["training_session"] = s
    return w.objects["training_session"]


def responsible(w):
    if "unit_responsible" not in w.objects:
        from backend.training import service

        w.objects["unit_responsible"] = service.set_responsible(
            actor=w.staff_x, unit_id=w.x1.id, staff_id=w.target.id, since=date(2024, 1, 1)
        )
    return w.objects["unit_responsible"]
