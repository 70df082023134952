"""The kept monthly figures (models.collection): a posting in an old month changes that
month's billed and collected at once, on every page that shows them; a figure is summed
afresh only when a write touched its month."""

import datetime as dt
from decimal import Decimal

from pm_admin.extensions import db

from test_dashboard_figures import add_bill, pay

from models.collection import MonthlyCollection
from models.period import period_of, previous_period
from reports.arrears import collection_rate, collection_totals
from pm_admin import clock


def kept(community, period):
    db.session.expire_all()
    return db.session.get(MonthlyCollection, (community.id, period))


def test_a_posting_in_an_old_month_changes_its_kept_figure(world, make, entered_at):
    place = world["A"]
    community = place["community"]
    old = previous_period(period_of(clock.today()), 10)
    scope = frozenset({community.id})
    first = add_bill(place, old, Decimal("500.00"))
    before = collection_totals([old], scope_ids=scope)[old]
    assert (before.billed, before.collected) == (Decimal("500.00"), Decimal("0"))
    assert kept(community, old).billed == Decimal("500.00")  # kept by the reader

    collector = make.staff("collector", communities=[community])
    with entered_at(clock.now() - dt.timedelta(days=1)):
        pay(place, first, Decimal("120.00"), collector, "old-month")
    assert kept(community, old).billed is None  # the posting marked it stale
    after = collection_totals([old], scope_ids=scope)[old]
    assert (after.billed, after.collected) == (Decimal("500.00"), Decimal("120.00"))
    assert kept(community, old).collected == Decimal("120.00")

    add_bill(place, old, Decimal("80.00"))  # a bill issued late for the old month
    later = collection_totals([old], scope_ids=scope)[old]
    assert later.billed == Decimal("580.00")
    # the same figure as the collection-rate report's total, in all communities and for one
    assert collection_rate(old, scope_ids=scope)["total"].billed == later.billed
    assert collection_rate(old, community_id=community.id, scope_ids=None)["total"].collected == Decimal("120.00")


def test_money_after_the_moment_asked_is_not_counted(world, make, entered_at):
    place = world["A"]
    community = place["community"]
    old = previous_period(period_of(clock.today()), 3)
    bill = add_bill(place, old, Decimal("300.00"))
    collector = make.staff("collector", communities=[community])
    paid_at = clock.now() - dt.timedelta(days=2)
    with entered_at(paid_at):
        pay(place, bill, Decimal("100.00"), collector, "as-of")
    scope = frozenset({community.id})
    assert collection_totals([old], scope_ids=scope)[old].collected == Decimal("100.00")  # now kept
    earlier = collection_totals([old], scope_ids=scope, as_of=paid_at - dt.timedelta(hours=1))[old]
    assert (earlier.billed, earlier.collected) == (Decimal("300.00"), Decimal("0"))
