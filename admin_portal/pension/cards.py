"""Workbench cards of retirement pay (issue 18): batches and runs waiting for a checker, failed payments."""

from admin_portal.home.cards import Card, Item, card


@card(order=62)
def adjustment_batches_to_check(actor):
    """Part 2: previewed adjustment batches in scope waiting for a checker other than their maker."""
    if not actor.can("pension.approve"):
        return None
    from flask import url_for

    from backend.counting import capped_count
    from backend.pension.adjustments import waiting_for_checker

    waiting = capped_count(waiting_for_checker(actor))
    return Card(
        key="pension-adjustments",
        title="退役金调整待复核",
        template="home/_card_counts.html",
        order=adjustment_batches_to_check.order,
        items=[
            Item(
                "adjustments-waiting",
                "待复核执行的调整批次",
                str(waiting),
                url_for("pension.adjustments_index", state="previewed"),
                urgent=waiting.value > 0,
            )
        ],
    )


@card(order=63)
def payroll_to_follow(actor):
    """Part 3: payroll runs waiting for a checker other than their maker; failed payments nobody has fixed yet."""
    if not actor.can("pension.view") or not (actor.can("pension.approve") or actor.can("pension.batch")):
        return None
    from flask import url_for

    from backend.counting import capped_count
    from backend.pension.payroll import waiting_for_checker
    from backend.pension.returns import open_failures

    items = []
    if actor.can("pension.approve"):
        waiting = capped_count(waiting_for_checker(actor))
        items.append(
            Item(
                "payroll-waiting",
                "待复核确认的发放名册",
                str(waiting),
                url_for("pension.payroll_index"),
                urgent=waiting.value > 0,
            )
        )
    failed = capped_count(open_failures(actor))
    items.append(
        Item(
            "payroll-failures",
            "银行发放失败待处理",
            str(failed),
            url_for("pension.payroll_failures"),
            urgent=failed.value > 0,
        )
    )
    return Card(
        key="pension-payroll",
        title="退役金发放",
        template="home/_card_counts.html",
        order=payroll_to_follow.order,
        items=items,
    )
