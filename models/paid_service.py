"""Paid services (有偿服务: indoor cleaning, water delivery, key copying…) and other
one-off charges (临时收费) taken at the cash desk.

A charge is a one-off bill and a payment of exactly its amount, raised and posted in
one go, so it has a receipt and appears in the ledgers like any other bill.
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.auth import require
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import Money, parse_amount, quantize
from pm_admin.plausible import Range

from .billing import raise_one_off_bill
from .community import Community
from .household import Household
from .payment import Payment, PaymentMethod, find_posted, post_payment

QUANTITY = Range(Decimal("0.01"), Decimal("1000"))


class ServicePrice(db.Model):
    """One line of a community's price list (有偿服务价目表)."""

    __tablename__ = "service_price"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    name: Mapped[str] = mapped_column(String(60), info={"label": lazy_pgettext("thing", "Name")})
    unit: Mapped[str] = mapped_column(String(20), info={"label": _l("Unit")})  # 次, 桶, 小时, 把
    price: Mapped[Decimal] = mapped_column(Money(),
                                           info={"label": _l("Price"),
                                                 "range": Range(Decimal("0.01"), Decimal("50000"))})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})

    community = relationship(Community, lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("price > 0", name="price_positive"),
    )
    constraint_messages = {
        "uq_service_price_community_id_name": _l("This community's price list already has a service of that name."),
        "ck_service_price_price_positive": _l("The price must be more than zero."),
    }

    def __str__(self) -> str:
        return f"{self.name} ¥{self.price}/{self.unit}"


def charge_at_desk(household: Household, *, method: PaymentMethod, actor, token: str, service: ServicePrice | None = None,
                   quantity=None, amount=None, reason: str | None = None) -> Payment:
    """Charge and collect in one step: a price-list service × quantity, or a free charge
    of ``amount`` with its ``reason``. One one-off bill, one payment of exactly its
    amount on one receipt (the advance balance is left alone).

    Idempotent by ``token``. Flushes; the caller commits."""
    require(actor, "paid_service.charge", household, refusal=_l("Your role may not take one-off charges."))
    already = find_posted(token)
    if already is not None:
        return already
    if service is not None:
        if not service.active or service.community_id != household.building.community_id:
            raise DomainError(_l("“%(service)s” is not on this community's price list."), service=str(service))
        count = parse_amount(quantity if quantity not in (None, "") else "1", what=_l("The quantity"))
        low, high = QUANTITY.bounds()
        if not low <= count <= high:
            raise DomainError(_l("The quantity must be between %(low)s and %(high)s."), low=low, high=high)
        total = quantize(service.price * count)
        source = f"{service.name} {count.normalize():f} {service.unit} × ¥{service.price}"
        if reason and reason.strip():
            source = f"{source} ({reason.strip()})"
        code = "paid_service"
    else:
        count, total, source, code = None, parse_amount(amount, what=_l("The amount")), (reason or "").strip(), "other"
        if not source:
            raise DomainError(_l("Say what the charge is for."))
    bill = raise_one_off_bill(household, code, total, source, actor=actor, source_key=f"desk:{token}", quantity=count,
                              settle_from_advance=False)  # paid on the spot, on its own receipt
    return post_payment(household, amount=total, method=method, bill_ids=[bill.id], actor=actor, token=token,
                        use_advance=False)
