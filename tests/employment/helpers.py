"""Employment objects for tests and the authorization matrix: veteran A (station X1) employed with a liaison, a loan
support and a volunteer role with an activity."""

from datetime import date


def veteran_a(w):
    if "veteran" not in w.objects:
        from tests.factories import create_veteran

        w.objects["veteran"] = create_veteran(station=w.x1, grid=w.x1_grid)
    return w.objects["veteran"]


def employed(w, veteran=None):
    from backend.employment import service

    return service.set_status(
        actor=w.staff_x,
        veteran_id=(veteran or veteran_a(w)).id,
        status="employed",
        employer="青山机械厂",
        position="保卫干事",
        since=date(2020, 3, 1),
        liaison_name="王主任",
        liaison_phone="13812345678",
    )


def support(w):
    if "employment_support" not in w.objects:
        from backend.employment import service

        w.objects["employment_support"] = service.record_support(
            actor=w.staff_x, veteran_id=veteran_a(w).id, kind="loan", given_on=date(2024, 4, 1),
            detail="创业担保贷款", amount="50000.50",
        )  # fmt: skip
    return w.objects["employment_support"]


def role(w):
    if "civic_role" not in w.objects:
        from backend.employment import service

        w.objects["civic_role"] = service.record_role(
            actor=w.staff_x, veteran_id=veteran_a(w).id, area="volunteer", title="志愿者", organisation="青山镇志愿队"
        )
        service.record_activity(actor=w.staff_x, role_id=w.objects["civic_role"].id, held_on=date(2024, 5, 1),
                                title="义务巡逻", hours="1.5")  # fmt: skip
    return w.objects["civic_role"]


def veteran_page(w):
    """Veteran A with a status, a support and a role: every form of the page is on offer."""
    if "employment_page" not in w.objects:
        employed(w)
        support(w)
        role(w)
        w.objects["employment_page"] = True
    return f"/employment/veterans/{w.veteran.id}"
