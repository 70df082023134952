"""Who may do what: the one table a manager reads to know each role's rights.

Permission names are ``<record>.<operation>``. Views use view / create / edit /
delete / export; workflow steps and personal data have names of their own.
"""

from .staff import Role

# Full phone numbers and ID numbers (otherwise shown masked, e.g. 138****5678)
PERSONAL_PHONE = "personal.phone"
PERSONAL_ID_NUMBER = "personal.id_number"

_HOUSEHOLD_FILES_READ = {
    "community.view", "building.view", "household.view", "resident.view",
    "vehicle.view", "parking_space.view", "key.view", "key_loan.view",
}
_HOUSEHOLD_FILES_KEEP = {
    "household.create", "household.edit",
    "resident.create", "resident.edit", "resident.delete",
    "vehicle.create", "vehicle.edit", "vehicle.delete",
    "parking_space.create", "parking_space.edit",
    "key.create", "key.edit", "key.lend", "key.return", "key.hand_back", "key.report_lost",
    # onboarding from spreadsheets (导入)
    "household.import", "parking_space.import", "vehicle.import",
}

# Money: receptionists see a household's bills and balance; collectors take money,
# readings and dunning; supervisors run bills, void, approve refunds and waivers.
_MONEY_READ = {"fee_item.view", "bill.view", "payment.view"}
_COLLECTING = _MONEY_READ | {
    "payment.post", "refund.view", "refund.request", "meter_reading.view", "meter_reading.create",
    "dunning.view", "dunning.create", "dunning.edit", "arrears.view", "cash_summary.view",
}
_SUPERVISING_MONEY = _COLLECTING | {
    "fee_item.create", "fee_item.edit", "bill.run", "bill.void", "bill.waive", "refund.approve", "collection.view",
    "fee_item.export", "bill.export", "payment.export", "refund.export", "meter_reading.export", "dunning.export",
    "ledger.export",  # the four ledgers as workbooks (报表导出)
}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    # 接待员 / 客服专员: keeps the household files and the key cabinet; calls residents.
    Role.receptionist.name: _HOUSEHOLD_FILES_READ | _HOUSEHOLD_FILES_KEEP | _MONEY_READ | {
        PERSONAL_PHONE, PERSONAL_ID_NUMBER},
    # 收费员: reads the files to bill and dun; phones households, never needs ID numbers.
    Role.collector.name: _HOUSEHOLD_FILES_READ | _COLLECTING | {PERSONAL_PHONE},
    # 客服主管: everything, including accounts, deletions, exports and the audit log.
    Role.supervisor.name: _HOUSEHOLD_FILES_READ | _HOUSEHOLD_FILES_KEEP | _SUPERVISING_MONEY | {
        PERSONAL_PHONE, PERSONAL_ID_NUMBER,
        "community.create", "community.edit",
        "building.create", "building.edit", "building.delete",
        "household.delete", "parking_space.delete", "key.delete", "key.found",
        "household.export", "resident.export", "vehicle.export", "key.export", "key_loan.export",
        "staff.view", "staff.create", "staff.edit",
        "audit.view", "audit.export",
    },
    # 维修工: finds the household of a repair; sees no personal data in full.
    Role.engineer.name: {"community.view", "building.view", "household.view", "resident.view"},
}
