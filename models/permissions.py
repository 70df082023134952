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
    "card.view", "handover.view", "handover_defect.view",
}
_HOUSEHOLD_FILES_KEEP = {
    "household.create", "household.edit",
    "resident.create", "resident.edit", "resident.delete",
    "vehicle.create", "vehicle.edit", "vehicle.delete",
    "parking_space.create", "parking_space.edit",
    "key.create", "key.edit", "key.lend", "key.return", "key.hand_back", "key.report_lost",
    # onboarding from spreadsheets (导入)
    "household.import", "parking_space.import", "vehicle.import",
    # cards (卡证): issued, replaced when lost or damaged, cancelled
    "card.create", "card.edit", "card.replace", "card.cancel",
    # move-in (入住/收楼): the handover record, its defects, completing it; change of owner (过户)
    "handover.create", "handover.edit", "handover.complete",
    "handover_defect.create", "handover_defect.edit", "handover_defect.delete",
    "ownership.transfer",
}

# Money: receptionists see a household's bills and balance; collectors take money,
# readings and dunning; supervisors run bills, void, approve refunds and waivers.
_MONEY_READ = {"fee_item.view", "bill.view", "payment.view"}
_COLLECTING = _MONEY_READ | {
    "payment.post", "refund.view", "refund.request", "refund.pay_out",
    # 车辆收费员: keeps the monthly rentals, takes the rent, phones renters before they expire
    "parking_rental.view", "parking_rental.create", "parking_rental.edit", "parking_rental.collect",
    # 有偿服务 / 临时收费 at the desk, from the supervisors' price list
    "service_price.view", "paid_service.charge", "meter_reading.view", "meter_reading.create",
    "dunning.view", "dunning.create", "dunning.edit", "arrears.view", "cash_summary.view",
    # 银行划账: import the bank's statement, review the proposed households, post the lines
    "bank.view", "bank.import", "bank.review", "bank.post",
    "sms.view", "sms.send",  # payment reminders by text message (短信催缴) and their send log
    # 水电平衡: the master meters read monthly and the balance against the households' meters
    "master_meter.view", "master_meter.read", "master_meter_reading.view", "balance.view",
}
_SUPERVISING_MONEY = _COLLECTING | {
    "fee_item.create", "fee_item.edit", "service_price.create", "service_price.edit", "parking_rental.export",
    "bill.run", "bill.import", "bill.void", "bill.waive", "refund.approve", "collection.view",
    "payment.backdate",  # date a payment further back than PAYMENT_BACKDATE_DAYS
    "advance.hold",  # hold a household's advance balance back from its bills, or let it settle them again
    "fee_item.export", "bill.export", "payment.export", "refund.export", "meter_reading.export", "dunning.export",
    "ledger.export",  # the four ledgers as workbooks (报表导出)
    "bank.export",
    "sms.export", "message_template.view", "message_template.create", "message_template.edit",
    "master_meter.create", "master_meter.edit", "master_meter.export", "master_meter_reading.export",
    "balance.export", "balance.allocate",  # the loss shared among households (公摊) as bills
}

# Service workflows: repair orders, decoration applications, reception log, goods-release passes
_SERVICE_READ = {"repair.view", "decoration.view", "decoration_worker.view", "decoration_violation.view",
                 "reception.view", "goods_pass.view", "notice.view", "sms.view"}  # sms: the texts repairs send
_SERVICE_DESK = {  # what the front desk files, records and follows up
    "repair.create", "repair.edit", "repair.dispatch", "repair.return_visit", "repair.close", "repair.reopen",
    "decoration.create", "decoration.edit", "decoration.start", "decoration.request_inspection",
    "decoration.record_violation", "decoration.close",
    "decoration_worker.create", "decoration_worker.edit", "decoration_worker.delete",
    "reception.create", "reception.edit", "reception.start", "reception.reply", "reception.return_visit",
    "reception.close",
    "goods_pass.create", "goods_pass.edit", "goods_pass.issue", "goods_pass.confirm_used", "goods_pass.cancel",
    # notices for the boards (通知/公告): drafted, submitted, posted and taken down at the desk
    "notice.create", "notice.edit", "notice.submit", "notice.post", "notice.withdraw",
}
_SERVICE_SUPERVISE = {  # approvals, inspection results, voiding, the weekly list, exports
    "repair.void", "repair.accept", "repair.complete", "repair.export",
    "decoration.approve", "decoration.reject", "decoration.pass_inspection", "decoration.fail_inspection",
    "decoration.export", "reception.unfinished", "reception.export", "goods_pass.export",
    "notice.approve", "notice.reject", "notice.export",
    "analysis.view", "analysis.export",  # service analysis (投诉分析/报修统计) and the weekly summary
}

# Patrols (巡查): receptionists and engineers walk the rounds and put right what they are given;
# the supervisor keeps the checklists and plans, verifies rectifications and scores the contractors.
_PATROL_WALK = {"patrol.view", "patrol.create", "patrol_item.view", "patrol_template.view",
                "patrol_template_item.view", "patrol_plan.view", "rectification.view", "rectification.create",
                "rectification.complete"}
_PATROL_SUPERVISE = _PATROL_WALK | {
    "patrol.report_repair", "patrol.export", "patrol_template.create", "patrol_template.edit",
    "patrol_template_item.create", "patrol_template_item.edit", "patrol_template_item.delete",
    "patrol_plan.create", "patrol_plan.edit", "patrol_plan.delete", "patrol_plan.rounds",
    "rectification.edit", "rectification.verify", "rectification.export",
    "contractor_score.view", "contractor_score.export",  # 外委单位月度评分, for settlement
}
# Satisfaction surveys (满意度调查): the desk records households' answers; the supervisor
# designs questionnaires, runs surveys and reads the results.
_SURVEY_DESK = {"survey.view", "survey.answer", "survey_response.view"}
_SURVEY_SUPERVISE = _SURVEY_DESK | {
    "questionnaire.view", "questionnaire.create", "questionnaire.edit",
    "survey_question.view", "survey_question.create", "survey_question.edit", "survey_question.delete",
    "survey.create", "survey.edit", "survey.open", "survey.close", "survey.results", "survey.export",
    "survey_response.export",
}
# Attachments (档案/附件): photos and scans on the records. Opening a personal one (an ID-card
# copy) also needs PERSONAL_ID_NUMBER; a confidential one, attachment.confidential.
_ATTACHMENTS_READ = {"attachment.view"}
_ATTACHMENTS_FILE = _ATTACHMENTS_READ | {"attachment.create"}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    # 接待员 / 客服专员: keeps the household files and the key cabinet; calls residents.
    Role.receptionist.name: _HOUSEHOLD_FILES_READ | _HOUSEHOLD_FILES_KEEP | _MONEY_READ | {
        PERSONAL_PHONE, PERSONAL_ID_NUMBER} | _SERVICE_READ | _SERVICE_DESK | _SURVEY_DESK
    | _PATROL_WALK | {"patrol.report_repair"} | _ATTACHMENTS_FILE,
    # 收费员: reads the files to bill and dun; phones households, never needs ID numbers.
    Role.collector.name: _HOUSEHOLD_FILES_READ | _COLLECTING | {PERSONAL_PHONE}
    | {"repair.view", "decoration.view", "decoration_worker.view", "notice.view"} | _ATTACHMENTS_READ,
    # 客服主管: everything, including accounts, deletions, exports and the audit log.
    Role.supervisor.name: _HOUSEHOLD_FILES_READ | _HOUSEHOLD_FILES_KEEP | _SUPERVISING_MONEY | {
        PERSONAL_PHONE, PERSONAL_ID_NUMBER,
        "community.create", "community.edit",
        "building.create", "building.edit", "building.delete",
        "household.delete", "parking_space.delete", "key.delete", "key.found",
        "household.export", "resident.export", "vehicle.export", "key.export", "key_loan.export",
        "card.export", "handover.export",
        "staff.view", "staff.create", "staff.edit",
        "audit.view", "audit.export",
        "export.manage",  # others' background exports (My exports), in the communities they work in
    } | _SERVICE_READ | _SERVICE_DESK | _SERVICE_SUPERVISE | _SURVEY_SUPERVISE | _PATROL_SUPERVISE
    | _ATTACHMENTS_FILE | {"attachment.delete", "attachment.export", "attachment.confidential"},
    # 维修工: finds the household of a repair; sees no personal data in full (nor ID-card copies).
    # Photographs their work before and after, from their phone.
    # Sees only the repair orders dispatched to them (models.repair.repairs_visible_to).
    Role.engineer.name: {"community.view", "building.view", "household.view", "resident.view",
                         "repair.view", "repair.accept", "repair.complete"} | _PATROL_WALK | _ATTACHMENTS_FILE,
}
