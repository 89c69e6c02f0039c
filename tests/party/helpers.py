"""Party objects for tests and the authorization matrix: a branch at station X1, veteran A as a member with an open
inbound transfer, and an evaluation with the branch's document."""

from datetime import date


def branch(w, unit=None, name="青山镇党委退役军人党支部"):
    key = f"party_branch_{(unit or w.x1).id}_{name}"
    if key not in w.objects:
        from backend.party import service

        w.objects[key] = service.create_branch(
            actor=w.staff_x, unit_id=(unit or w.x1).id, name=name, secretary="李书记"
        )
    return w.objects[key]


def veteran_a(w):
    if "veteran" not in w.objects:  # the matrix world has one (add_objects); a bare test world gets one here
        from tests.factories import create_veteran

        w.objects["veteran"] = create_veteran(station=w.x1, grid=w.x1_grid)
    return w.objects["veteran"]


def member(w, veteran=None, status="full"):
    veteran = veteran or veteran_a(w)
    from backend.party import service

    return service.set_membership(
        actor=w.staff_x, veteran_id=veteran.id, status=status, branch_id=branch(w).id, joined_on=date(2010, 7, 1)
    )


def open_transfer(w):
    if "party_transfer" not in w.objects:
        from backend.party import service

        member(w)
        w.objects["party_transfer"] = service.record_transfer(
            actor=w.staff_x,
            veteran_id=w.veteran.id,
            direction="in",
            counterpart="某部队党委",
            started_on=date(2024, 1, 2),
            letter_number="JX-001",
            branch_id=branch(w).id,
        )
    return w.objects["party_transfer"]


def evaluation(w, year=2023):
    if "party_evaluation" not in w.objects:
        from backend.party import evaluations
        from tests.files import samples

        member(w)
        w.objects["party_evaluation"] = evaluations.record_evaluation(
            actor=w.staff_x,
            veteran_id=w.veteran.id,
            year=year,
            life="good",
            dues="good",
            conduct="fair",
            overall="qualified",
            opinion="按时参加组织生活",
            filename="评定.pdf",
            data=samples.pdf(),
        )
    return w.objects["party_evaluation"]


def veteran_page(w):
    """Veteran A as a member with an open transfer: every form of the party page is on offer."""
    open_transfer(w)
    evaluation(w)
    return f"/party/veterans/{w.veteran.id}"
