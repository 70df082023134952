"""How the domain appears in the panel: the site declaration."""

from pm_admin.i18n import _l
from pm_admin.importing import ImportView
from pm_admin.site import Site

from models import Building, Community, Household, Key, KeyLoan, ParkingRental, ParkingSpace, Resident, ServicePrice, Staff
from models import Attachment, Card, Handover, HandoverDefect, Notice, Questionnaire, Survey, SurveyQuestion, SurveyResponse, Vehicle
from models import DecorationApplication, DecorationViolation, DecorationWorker, GoodsPass, ReceptionRecord, RepairOrder
from models.message import MessageTemplate, OutboundMessage
from models.permissions import ROLE_PERMISSIONS
from pm_admin import sms

from . import balance, billing
from .commands import COMMANDS, TASKS
from .households import BuildingView, CommunityView, HouseholdView, ResidentView
from .cards import CardView
from .handovers import HandoverDefectView, HandoverView, OwnershipPage
from .keys import KeyLoanView, KeyView
from .analysis import ServiceAnalysisPage
from .ledgers import LedgerPage
from .dashboard import DASHBOARD_PANELS
from .imports import IMPORT_KINDS
from .search import SEARCH_SOURCES
from .repairs import RepairOrderView
from . import patrols
from .notices import NoticeView
from .attachments import AttachmentView
from .services import DecorationView, DecorationViolationView, DecorationWorkerView, GoodsPassView, ReceptionView
from .staff import StaffView
from .surveys import QuestionnaireView, SurveyQuestionView, SurveyResponseView, SurveyView
from .vehicles import ParkingSpaceView, VehicleView
from . import bank, messages, parking

FILES = _l("Household files")
SERVICE = _l("Customer service")
SYSTEM = _l("System")
MONEY = _l("Billing")
REPORTS = _l("Reports")
PATROLS = _l("Patrols")


def register_views(panel) -> None:
    panel.add_view(HouseholdView(Household, name=_l("Households"), endpoint="household", category=FILES))
    panel.add_view(ResidentView(Resident, name=_l("Residents"), endpoint="resident", category=FILES))
    panel.add_view(VehicleView(Vehicle, name=_l("Vehicles"), endpoint="vehicle", category=FILES))
    panel.add_view(ParkingSpaceView(ParkingSpace, name=_l("Parking spaces"), endpoint="parking_space", category=FILES))
    panel.add_view(parking.ParkingRentalView(ParkingRental, name=_l("Parking rentals"), endpoint="parking_rental",
                                             category=FILES))
    panel.add_view(BuildingView(Building, name=_l("Buildings"), endpoint="building", category=FILES))
    panel.add_view(CommunityView(Community, name=_l("Communities"), endpoint="community", category=FILES))
    panel.add_view(CardView(Card, name=_l("Cards"), endpoint="card", category=FILES))
    panel.add_view(HandoverView(Handover, name=_l("Handovers"), endpoint="handover", category=FILES))
    panel.add_view(HandoverDefectView(HandoverDefect, name=_l("Handover defects"), endpoint="handover_defect",
                                      category=FILES))
    panel.add_view(OwnershipPage(name=_l("Change of owner"), endpoint="ownership", url="/admin/ownership",
                                 category=FILES))
    panel.add_view(KeyView(Key, name=_l("Key cabinet"), endpoint="key", category=FILES))
    panel.add_view(KeyLoanView(KeyLoan, name=_l("Key loans"), endpoint="key_loan", category=FILES))
    panel.add_view(ImportView(IMPORT_KINDS, name=_l("Import from Excel"), endpoint="import", url="/admin/import",
                              category=FILES))
    _register_billing(panel)
    panel.add_view(RepairOrderView(RepairOrder, name=_l("Repair orders"), endpoint="repair", category=SERVICE))
    panel.add_view(ReceptionView(ReceptionRecord, name=_l("Reception log"), endpoint="reception", category=SERVICE))
    panel.add_view(DecorationView(DecorationApplication, name=_l("Decoration applications"), endpoint="decoration",
                                  category=SERVICE))
    panel.add_view(DecorationWorkerView(DecorationWorker, name=_l("Decoration workers"), endpoint="decoration_worker",
                                        category=SERVICE))
    panel.add_view(DecorationViolationView(DecorationViolation, name=_l("Decoration violations"),
                                           endpoint="decoration_violation", category=SERVICE))
    panel.add_view(GoodsPassView(GoodsPass, name=_l("Goods-release passes"), endpoint="goods_pass", category=SERVICE))
    _register_patrols(panel)
    panel.add_view(NoticeView(Notice, name=_l("Notices"), endpoint="notice", category=SERVICE))
    panel.add_view(SurveyView(Survey, name=_l("Satisfaction surveys"), endpoint="survey", category=SERVICE))
    panel.add_view(SurveyResponseView(SurveyResponse, name=_l("Survey responses"), endpoint="survey_response",
                                      category=SERVICE))
    panel.add_view(QuestionnaireView(Questionnaire, name=_l("Questionnaires"), endpoint="questionnaire",
                                     category=SERVICE))
    panel.add_view(SurveyQuestionView(SurveyQuestion, name=_l("Survey questions"), endpoint="survey_question",
                                      category=SERVICE))
    panel.add_view(messages.OutboundMessageView(OutboundMessage, name=_l("Text messages sent"), endpoint="sms",
                                                category=SERVICE))
    panel.add_view(messages.MessageTemplateView(MessageTemplate, name=_l("Message templates"),
                                                endpoint="message_template", category=SERVICE))
    sms.init_app(panel.app)
    panel.add_view(ServiceAnalysisPage(name=_l("Service analysis"), endpoint="analysis", url="/admin/analysis",
                                       category=REPORTS))
    panel.add_view(AttachmentView(Attachment, name=_l("Document register"), endpoint="attachment", category=FILES))
    panel.add_view(StaffView(Staff, name=_l("Staff accounts"), endpoint="staff", category=SYSTEM))


def _register_patrols(panel) -> None:
    from models import PatrolItemResult, PatrolPlan, PatrolRecord, PatrolTemplate, PatrolTemplateItem, Rectification

    panel.add_view(patrols.PatrolRecordView(PatrolRecord, name=_l("Patrol rounds"), endpoint="patrol", category=PATROLS))
    panel.add_view(patrols.PatrolItemView(PatrolItemResult, name=_l("Patrol items"), endpoint="patrol_item",
                                          category=PATROLS))
    panel.add_view(patrols.RectificationView(Rectification, name=_l("Rectifications"), endpoint="rectification",
                                             category=PATROLS))
    panel.add_view(patrols.PatrolPlanView(PatrolPlan, name=_l("Patrol plans"), endpoint="patrol_plan",
                                          category=PATROLS))
    panel.add_view(patrols.PatrolTemplateView(PatrolTemplate, name=_l("Checklists"), endpoint="patrol_template",
                                              category=PATROLS))
    panel.add_view(patrols.PatrolTemplateItemView(PatrolTemplateItem, name=_l("Checklist items"),
                                                  endpoint="patrol_template_item", category=PATROLS))
    panel.add_view(patrols.ContractorScorePage(name=_l("Contractors' monthly scores"), endpoint="contractor_scores",
                                               url="/admin/contractor-scores", category=REPORTS))


def _register_billing(panel) -> None:
    from models import BankLine, Bill, DunningRecord, FeeItem, MeterReading, Payment, RefundRequest

    panel.app.register_blueprint(billing.templates)
    panel.add_view(billing.CashierPage(name=_l("Cash desk"), endpoint="cashier", url="/admin/cashier", category=MONEY))
    panel.add_view(parking.DeskChargePage(name=_l("Paid service or one-off charge"), endpoint="desk_charge",
                                          url="/admin/desk-charge", category=MONEY))
    panel.add_view(parking.ParkingDeskPage(name=_l("Parking rent"), endpoint="parking_desk", url="/admin/parking-desk",
                                           category=MONEY))
    panel.add_view(billing.ReceiptPage(name=_l("Receipts"), endpoint="receipt", url="/admin/receipt", category=MONEY))
    panel.add_view(bank.BankStatementPage(name=_l("Import a bank statement"), endpoint="bank_statement",
                                          url="/admin/bank-statement", category=MONEY))
    panel.add_view(bank.BankLineView(BankLine, name=_l("Bank transfers"), endpoint="bank_line", category=MONEY))
    panel.add_view(billing.PaymentView(Payment, name=_l("Payments"), endpoint="payment", category=MONEY))
    panel.add_view(billing.BillView(Bill, name=_l("Bills"), endpoint="bill", category=MONEY))
    panel.add_view(billing.AdvanceHoldPage(name=_l("Hold the advance balance"), endpoint="advance_hold",
                                           url="/admin/advance-hold", category=MONEY))
    panel.add_view(billing.RefundRequestView(RefundRequest, name=_l("Refunds"), endpoint="refund", category=MONEY))
    panel.add_view(billing.ReadingBatchPage(name=_l("Enter meter readings"), endpoint="readings",
                                            url="/admin/readings", category=MONEY))
    panel.add_view(billing.MeterReadingView(MeterReading, name=_l("Meter readings"), endpoint="meter_reading",
                                            category=MONEY))
    balance.register(panel, money=MONEY, reports=REPORTS)
    panel.add_view(billing.DunningRecordView(DunningRecord, name=_l("Dunning"), endpoint="dunning", category=MONEY))
    panel.add_view(billing.BillRunPage(name=_l("Bill run"), endpoint="bill_run", url="/admin/bill-run", category=MONEY))
    panel.add_view(billing.FeeItemView(FeeItem, name=_l("Fee items"), endpoint="fee_item", category=MONEY))
    panel.add_view(parking.ServicePriceView(ServicePrice, name=_l("Paid-service prices"), endpoint="service_price",
                                            category=MONEY))
    panel.add_view(billing.ArrearsPage(name=_l("Arrears ledger"), endpoint="arrears", url="/admin/arrears",
                                       category=REPORTS))
    panel.add_view(billing.CollectionRatePage(name=_l("Collection rate"), endpoint="collection_rate",
                                              url="/admin/collection-rate", category=REPORTS))
    panel.add_view(LedgerPage(name=_l("Ledgers to Excel"), endpoint="ledgers", url="/admin/ledgers", category=REPORTS))
    panel.add_view(parking.ParkingOccupancyPage(name=_l("Parking occupancy"), endpoint="parking_occupancy",
                                                url="/admin/parking-occupancy", category=REPORTS))
    panel.add_view(billing.CashSummaryPage(name=_l("Daily cash summary"), endpoint="cash_summary",
                                           url="/admin/cash-summary", category=REPORTS))


site = Site(
    name=_l("Property customer service"),
    user_model=Staff,
    role_permissions=ROLE_PERMISSIONS,
    register_views=register_views,
    commands=COMMANDS,
    tasks=TASKS,
    job_kinds=[billing.BILL_RUN_JOB],
    search_sources=SEARCH_SOURCES,
    dashboard_panels=DASHBOARD_PANELS,
    unscoped_tables=frozenset({"receipt_counter",  # one gapless receipt series for the company
                               # the company's questionnaires; a survey may span communities (row filter)
                               "questionnaire", "survey_question", "survey",
                               "message_template",  # the company's message templates
                               # one set of patrol checklists, the company's standard
                               "patrol_template", "patrol_template_item"}),
)
