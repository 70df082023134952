"""The household files (一户一档): communities, buildings, households, residents."""

from flask import url_for
from markupsafe import Markup

from pm_admin.admin import FileAction, Section, SecureModelView, related_summary
from pm_admin.forms import checked_by
from pm_admin.i18n import _l

from models.attachment import AttachmentCategory
from models.billing import OPEN_STATUSES
from models.card import CardStatus, cards_to_cancel
from models.handover import HandoverStatus, owner_history
from models.decoration import DecorationStatus
from models.goods_pass import GoodsPassStatus
from models.household import remove_household
from models.key import KeyStatus, key_of
from models.lookup import household_by_address_person_or_plate, resident_by_person_or_address
from models.notice import notices_for_household
from models.payment import latest_receipt
from models.reception import UNFINISHED
from models.repair import RepairStatus
from models.resident import normalise_id_number, normalise_phone
from .attachments import attachments_section
from .pickers import HOUSEHOLD_PICKER

from .billing import household_account

class CommunityView(SecureModelView):
    permission = "community"
    column_list = ["name", "address"]
    column_searchable_list = ["name", "address"]
    form_columns = ["name", "address", "notes"]


class BuildingView(SecureModelView):
    permission = "building"
    column_list = ["community", "name", "floors"]
    column_filters = ["community.name", "name"]
    column_searchable_list = ["name", "community.name"]
    column_default_sort = [("community_id", False), ("name", False)]
    form_columns = ["community", "name", "floors", "notes"]


class HouseholdView(SecureModelView):
    permission = "household"
    column_list = ["building", "unit", "room", "floor_area", "state", "archived_at"]
    column_filters = ["building.community.name", "building.name", "state", "floor_area", "archived_at"]
    column_searchable_list = ["room", "residents.name", "residents.phone", "vehicles.plate"]
    search_match = household_by_address_person_or_plate  # the navbar's matching, through the indexes
    search_hint = _l("Room, name or surname, phone's last 4 digits or plate")
    column_default_sort = [("building_id", False), ("unit", False), ("room", False)]
    column_details_list = ["building", "unit", "room", "floor_area", "state", "sms_opt_out", "notes", "archived_at"]
    form_columns = ["building", "unit", "room", "floor_area", "state", "sms_opt_out", "notes"]
    form_args = {"floor_area": {"places": 2}}
    column_labels = {"address": _l("Address"), "people": _l("Residents"), "account": _l("Account")}
    delete_with = remove_household
    # The household file (一户一档): header, one-click actions, then a section per kind of record,
    # each shown to those holding the permission of what it shows (a section: its view's).
    details_header = {
        "address": "household.view", "building.community": "household.view", "floor_area": "household.view",
        "state": "household.view", "people": "resident.view",
        "account": "bill.view",  # owed on bills and the advance balance: money, not the household file's
    }
    column_formatters_detail = {
        "people": related_summary("current_residents", ["name", "kind", "phone"]),
        "account": household_account,
    }
    details_related = ["residents", "advance_allocations"]  # the people and the account read them
    details_actions = [
        FileAction(_l("Post a payment"), "cashier.post", "payment.post", lambda h: {"household_id": h.id}),
        FileAction(_l("Payment notice"), "receipt.notice", "payment.view", lambda h: {"household_id": h.id},
                   style="outline-secondary"),
        FileAction(_l("Hold the advance balance"), "advance_hold.change", "advance.hold",
                   lambda h: {"household_id": h.id}, style="outline-secondary", when=lambda h: not h.advance_held),
        FileAction(_l("Apply the advance balance to bills"), "advance_hold.change", "advance.hold",
                   lambda h: {"household_id": h.id}, style="outline-secondary", when=lambda h: h.advance_held),
        FileAction(_l("Report a repair"), "repair.create_view", "repair.create",
                   lambda h: {"community": h.building.community_id, "household": h.id, "channel": "phone"},
                   callers="current_residents", section="repair_orders"),
        FileAction(_l("Log a visit or call"), "reception.create_view", "reception.create",
                   lambda h: {"community": h.building.community_id, "household": h.id},
                   callers="current_residents", section="reception_records"),
        FileAction(_l("Goods-release pass"), "goods_pass.create_view", "goods_pass.create", lambda h: {"household": h.id},
                   callers="current_residents", section="goods_passes"),
        FileAction(_l("Decoration application"), "decoration.create_view", "decoration.create",
                   lambda h: {"household": h.id}, callers="current_residents", section="decoration_applications"),
        FileAction(_l("Reprint a receipt"), "receipt.show", "payment.view",
                   lambda h: {"payment_id": latest_receipt(h).id}, style="outline-secondary",
                   when=lambda h: latest_receipt(h) is not None),
        FileAction(_l("Register a resident"), "resident.create_view", "resident.create", lambda h: {"household": h.id}),
        FileAction(_l("Register a vehicle"), "vehicle.create_view", "vehicle.create", lambda h: {"household": h.id}),
        FileAction(_l("Lend a key"), "key.transition_view", "key.lend",
                   lambda h: {"step": "lend", "id": key_of(h, KeyStatus.in_cabinet).id},
                   when=lambda h: key_of(h, KeyStatus.in_cabinet) is not None),
        FileAction(_l("Take the key back"), "key.transition_view", "key.return",
                   lambda h: {"step": "return", "id": key_of(h, KeyStatus.lent).id},
                   when=lambda h: key_of(h, KeyStatus.lent) is not None),
        FileAction(_l("Put a key in the cabinet"), "key.create_view", "key.create", lambda h: {"household": h.id},
                   style="outline-primary"),
        FileAction(_l("Issue a card"), "card.create_view", "card.create", lambda h: {"household": h.id},
                   callers="current_residents", section="cards", style="outline-primary"),
        FileAction(_l("Handover"), "handover.create_view", "handover.create", lambda h: {"household": h.id},
                   callers="current_residents", section="handovers", style="outline-primary"),
        FileAction(_l("Change of owner"), "ownership.transfer", "ownership.transfer", lambda h: {"household_id": h.id},
                   style="outline-secondary"),
        FileAction(_l("Edit the household"), "household.edit_view", "household.edit", lambda h: {"id": h.id},
                   style="outline-secondary"),
    ]
    details_sections = [
        Section(_l("Residents"), "residents", ["kind", "name", "phone", "id_number", "moved_in_on", "moved_out_on"], "resident"),
        Section(_l("Vehicles"), "vehicles", ["plate", "parking_space", "rental_expires_on", "description"], "vehicle"),
        Section(_l("Keys"), "keys", ["kind", "cabinet_slot", "label", "status"], "key",
                open_when=lambda k: k.status is KeyStatus.lent),
        Section(_l("Key loans"), "key_loans", ["key", "borrower", "purpose", "lent_at", "due_back", "returned_at"], "key_loan",
                open_when=lambda loan: loan.returned_at is None),
        Section(_l("Bills"), "bills", ["period", "fee_item", "amount", "paid", "status", "due_on"], "bill",
                open_when=lambda b: b.status in OPEN_STATUSES),
        Section(_l("Payments"), "payments", ["receipt_no", "kind", "amount", "method", "paid_at", "collector"], "payment"),
        Section(_l("Repair orders"), "repair_orders", ["serial", "registered_at", "category", "status", "engineer"], "repair",
                open_when=lambda r: r.status not in (RepairStatus.closed, RepairStatus.voided)),
        Section(_l("Decoration applications"), "decoration_applications",
                ["submitted_at", "contractor", "planned_start", "planned_end", "status"], "decoration",
                open_when=lambda d: d.status not in (DecorationStatus.closed, DecorationStatus.rejected)),
        Section(_l("Reception log"), "reception_records", ["received_at", "kind", "contact", "handler", "status"],
                "reception", open_when=lambda r: r.status in UNFINISHED),
        Section(_l("Survey responses"), "survey_responses", ["survey", "channel", "respondent", "recorded_by",
                                                             "recorded_at"], "survey_response"),
        Section(_l("Goods-release passes"), "goods_passes", ["pass_date", "applicant", "items", "status"], "goods_pass",
                open_when=lambda g: g.status in (GoodsPassStatus.requested, GoodsPassStatus.issued)),
        Section(_l("Cards"), "cards", ["kind", "number", "resident", "issued_on", "valid_until", "status"], "card",
                open_when=lambda c: c.status is CardStatus.active),
        Section(_l("Handovers"), "handovers", ["handed_over_on", "staff", "owner", "keys_handed_over", "status"],
                "handover", open_when=lambda h: h.status is HandoverStatus.draft),
        Section(_l("Owners"), "owners", ["name", "moved_in_on", "moved_out_on"], "resident", rows=owner_history),
        Section(_l("Notices on the boards"), "notices", ["kind", "title", "valid_from", "valid_until"], "notice",
                rows=notices_for_household),
        attachments_section(),
    ]


def cards_to_cancel_notice(view, context, resident, name):
    """Moved out with cards still in use: each links to its page, where the desk cancels it."""
    cards = cards_to_cancel(resident)
    if not cards:
        return ""
    links = Markup("、").join(Markup('<a href="{}">{}</a>').format(url_for("card.details_view", id=c.id), c)
                             for c in cards)
    return Markup('<span class="text-danger">{}</span> {}').format(
        _l("Moved out: cancel these cards still in use:"), links)


class ResidentView(SecureModelView):
    permission = "resident"
    column_list = ["household", "kind", "name", "phone", "id_number", "moved_in_on", "moved_out_on"]
    column_filters = ["household.building.community.name", "household.building.name", "kind", "moved_in_on"]
    column_searchable_list = ["name", "phone", "household.room"]
    search_match = resident_by_person_or_address
    search_hint = _l("Name or surname, phone's last 4 digits or room")
    column_details_list = ["household", "kind", "name", "phone", "id_number", "moved_in_on", "moved_out_on", "notes",
                           "cards_to_cancel"]
    column_formatters_detail = {"cards_to_cancel": cards_to_cancel_notice}
    column_labels = {"cards_to_cancel": _l("Cards to cancel")}
    form_columns = ["household", "kind", "name", "phone", "id_number", "moved_in_on", "moved_out_on", "notes"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER}
    form_prefill = ["household"]
    form_args = {
        "phone": {"validators": [checked_by(normalise_phone)]},
        "id_number": {"validators": [checked_by(normalise_id_number)]},
    }
    details_sections = [attachments_section(category=AttachmentCategory.id_card)]
