"""Monthly parking rentals (月租车位 / 停车费): the rental, paying months at the cash desk,
the renters to remind (月租续费提醒) and the spaces' occupancy.

Paying months raises one bill per month through the one-off bill machinery and posts
the payment against exactly those bills, so receipts, ledgers and arrears see them
like any other charge; the rental's paid-through date moves only with a payment.
"""

import calendar
import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Text, and_, case, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.auth import require
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import Money
from pm_admin.plausible import Range
from pm_admin.scope import scoped

from .billing import raise_one_off_bill
from .community import Community
from .household import Household
from .payment import Payment, PaymentMethod, find_posted, post_payment
from .vehicle import ParkingSpace, Vehicle
from pm_admin import clock

RENEWAL_MONTHS = Range(1, 24)  # months paid at once: up to two years ahead
REMIND_WITHIN_DAYS = 15  # the reminder call goes out about two weeks before the rent runs out


class ParkingRental(db.Model):
    """A household's monthly rental of a space, of a place for a vehicle, or both."""

    __tablename__ = "parking_rental"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    parking_space_id: Mapped[int | None] = mapped_column(ForeignKey("parking_space.id"), index=True,
                                                         info={"label": _l("Parking space")})
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True, info={"label": _l("Vehicle")})
    monthly_fee: Mapped[Decimal] = mapped_column(Money(),
                                                 info={"label": _l("Monthly fee"),
                                                       "range": Range(Decimal("1"), Decimal("5000"))})
    starts_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Starts")})
    paid_through: Mapped[dt.date] = mapped_column(Date, index=True,
                                                  info={"label": _l("Paid through")})  # the last day paid for
    ended_on: Mapped[dt.date | None] = mapped_column(Date,
                                                     info={"label": _l("Ended")})  # the renter gave the space back
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    community = relationship(Community, lazy="joined", innerjoin=True)
    household = relationship(Household, lazy="joined", innerjoin=True)
    parking_space = relationship(ParkingSpace, lazy="joined")
    vehicle = relationship(Vehicle, lazy="joined")

    __table_args__ = (
        CheckConstraint("monthly_fee > 0", name="monthly_fee_positive"),
        CheckConstraint("parking_space_id IS NOT NULL OR vehicle_id IS NOT NULL", name="space_or_vehicle"),
    )
    constraint_messages = {
        "ck_parking_rental_monthly_fee_positive": _l("The monthly fee must be more than zero."),
        "ck_parking_rental_space_or_vehicle": _l("Name the parking space or the vehicle rented for."),
    }

    def __str__(self) -> str:
        what = self.parking_space.number if self.parking_space else (self.vehicle.plate if self.vehicle else "")
        return f"{self.household} {what}".strip() if self.household else what


def check_parking_rental(rental: ParkingRental, *, actor, is_created: bool) -> None:
    """The space and vehicle belong to the household's community; a new rental without a
    paid-through date has paid nothing yet (it ends the day before it starts)."""
    household = rental.household
    if household is None or rental.starts_on is None:
        raise DomainError(_l("A rental needs a household and a start date."))
    rental.community_id = household.building.community_id
    if rental.parking_space is None and rental.vehicle is None:
        raise DomainError(_l("Name the parking space or the vehicle rented for."))
    if rental.parking_space is not None and rental.parking_space.community_id != rental.community_id:
        raise DomainError(_l("The parking space must be in the household's community."))
    if rental.vehicle is not None and rental.vehicle.household_id != household.id:
        raise DomainError(_l("The vehicle must be one of the household's."))
    if rental.paid_through is None:
        rental.paid_through = rental.starts_on - dt.timedelta(days=1)
    if rental.paid_through < rental.starts_on - dt.timedelta(days=1):
        raise DomainError(_l("The rental cannot be paid through a day before it starts."))
    if rental.ended_on is None and rental.parking_space is not None:
        taken = db.session.scalar(select(ParkingRental.id).where(
            ParkingRental.parking_space_id == rental.parking_space.id, ParkingRental.ended_on.is_(None),
            ParkingRental.id != (rental.id or 0)))
        if taken is not None or rental.parking_space.owner_household_id not in (None, household.id):
            raise DomainError(_l("This parking space is already rented or owned."))


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def month_terms(rental: ParkingRental, months: int) -> list[tuple[dt.date, dt.date]]:
    """The next ``months`` monthly terms after the paid-through date, (first day, last day).

    A term runs from a day to the day before the same day next month, on the rental's
    own day of the month: paid through 31 Jan, the next term is February (1–28 Feb); a
    rental begun on 31 Jan runs 31 Jan–27 Feb, 28 Feb–30 Mar, 31 Mar–29 Apr, never
    drifting to the 28th. A paid-through date off that grid keeps its own day."""
    first = rental.paid_through + dt.timedelta(days=1)
    on_grid = first == _month_day(first.year, first.month, rental.starts_on.day)
    day = rental.starts_on.day if on_grid else first.day
    terms = []
    for _ in range(months):
        index = first.year * 12 + first.month  # the next month, counted from year 0
        following = _month_day(index // 12, index % 12 + 1, day)
        terms.append((first, following - dt.timedelta(days=1)))
        first = following
    return terms


def pay_parking_months(rental: ParkingRental, months, *, method: PaymentMethod, actor, token: str,
                       notes: str | None = None) -> Payment:
    """Take ``months`` months of rent at the desk: one bill per month (period = the month
    the term begins in, amount = the monthly fee), one payment of exactly their sum on
    one receipt, and the paid-through date moved to the last term's end.

    Idempotent by ``token`` (the same form twice returns the first payment, the date
    moves once). Never touches the advance balance: the renter pays these months now.
    Flushes; the caller commits."""
    require(actor, "parking_rental.collect", rental, refusal=_l("Your role may not take parking fees."))
    already = find_posted(token)
    if already is not None:
        return already
    if rental.ended_on is not None:
        raise DomainError(_l("This rental has ended; start a new one."))
    low, high = RENEWAL_MONTHS.bounds()
    count = record_months(months)
    if not low <= count <= high:
        raise DomainError(_l("Pay between %(low)d and %(high)d months at once."), low=low, high=high)
    what = rental.parking_space.number if rental.parking_space else rental.vehicle.plate
    terms = month_terms(rental, count)
    bills = []
    for first, last in terms:
        bills.append(raise_one_off_bill(
            rental.household, "parking", rental.monthly_fee,
            _l("Parking %(what)s %(first)s – %(last)s", what=what, first=first.isoformat(), last=last.isoformat()),
            actor=actor, source_key=f"parking:{rental.id}:{first.isoformat()}", due_on=first,
            period=f"{first.year:04d}-{first.month:02d}", settle_from_advance=False))
    payment = post_payment(rental.household, amount=rental.monthly_fee * count, method=method,
                           bill_ids=[b.id for b in bills], actor=actor, token=token, use_advance=False, notes=notes)
    rental.paid_through = terms[-1][1]
    if rental.vehicle is not None:
        rental.vehicle.rental_expires_on = rental.paid_through  # the vehicle file shows the same date
    db.session.flush()
    return payment


def record_months(value) -> int:
    """A number of months typed at the desk."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise DomainError(_l("“%(value)s” is not a number of months."), value=str(value)[:20]) from None


def to_remind_clause(within_days: int = REMIND_WITHIN_DAYS, today: dt.date | None = None):
    """A running rental paid through no later than ``within_days`` from today, expired ones included."""
    today = today or clock.today()
    return and_(ParkingRental.ended_on.is_(None), ParkingRental.paid_through <= today + dt.timedelta(days=within_days))


def rentals_to_remind(within_days: int = REMIND_WITHIN_DAYS, today: dt.date | None = None) -> list[ParkingRental]:
    """The rentals to remind, longest expired first: the renewal reminder calls (续费提醒)."""
    query = scoped(db.session.query(ParkingRental), ParkingRental).filter(to_remind_clause(within_days, today))
    return query.order_by(ParkingRental.paid_through, ParkingRental.id).all()


def parking_occupancy() -> list[tuple[Community, int, int, int, int]]:
    """Per community in the user's scope: spaces in all, rented, owned, free. A space is
    rented while a rental of it has not ended (an overdue renter still holds it), owned
    when sold to a household; free otherwise."""
    rented = select(ParkingRental.parking_space_id).where(ParkingRental.ended_on.is_(None),
                                                          ParkingRental.parking_space_id.is_not(None))
    is_owned = ParkingSpace.owner_household_id.is_not(None)
    is_rented = ParkingSpace.id.in_(rented) & ~is_owned
    query = scoped(select(ParkingSpace.community_id, func.count(ParkingSpace.id),
                          func.sum(case((is_rented, 1), else_=0)), func.sum(case((is_owned, 1), else_=0))),
                   ParkingSpace).group_by(ParkingSpace.community_id)
    counts = {row[0]: row[1:] for row in db.session.execute(query)}
    communities = scoped(db.session.query(Community), Community).order_by(Community.name).all()
    return [(c, total, int(rented_), int(owned), total - int(rented_) - int(owned))
            for c in communities for total, rented_, owned in [counts.get(c.id, (0, 0, 0))]]
