"""The domain: tables and the verb functions that change them."""

from pm_admin.audit import AuditEntry  # noqa: F401  (framework tables share the metadata)
from pm_admin.auth import LoginAttempt  # noqa: F401
from pm_admin.numbering import SerialCounter  # noqa: F401
from pm_admin.workflow import WorkflowStep  # noqa: F401

from .community import Building, Community  # noqa: F401
from .household import Household, HouseholdState  # noqa: F401
from .key import Key, KeyKind, KeyLoan, KeyStatus  # noqa: F401
from .resident import Resident, ResidentKind  # noqa: F401
from .staff import Role, Staff  # noqa: F401
from .vehicle import ParkingSpace, Vehicle  # noqa: F401
from .billing import Bill, BillStatus, FeeItem, FeeKind  # noqa: F401
from .meter import MeterKind, MeterReading  # noqa: F401
from .master_meter import MasterMeter, MasterMeterReading  # noqa: F401
from .payment import (AdvanceAllocation, Payment, PaymentAllocation, PaymentMethod,  # noqa: F401
                      RefundLine, RefundRequest)
from .arrears import DunningRecord  # noqa: F401
from .collection import MonthlyCollection  # noqa: F401
from .repair import RepairCategory, RepairChannel, RepairOrder, RepairStatus  # noqa: F401
from .reception import ReceptionKind, ReceptionRecord, ReceptionStatus  # noqa: F401
from .decoration import DecorationApplication, DecorationStatus, DecorationViolation, DecorationWorker  # noqa: F401
from .goods_pass import GoodsPass, GoodsPassStatus  # noqa: F401
from .parking import ParkingRental  # noqa: F401
from .paid_service import ServicePrice  # noqa: F401
from .patrol import (ItemOutcome, PatrolItemResult, PatrolKind, PatrolPlan, PatrolRecord,  # noqa: F401
                     PatrolTemplate, PatrolTemplateItem, Rectification, RectificationStatus)
from .notice import Notice, NoticeKind, NoticeStatus  # noqa: F401
from .bank import BankLine, BankLineStatus, BankStatement  # noqa: F401
from .survey import (Questionnaire, ResponseChannel, Survey, SurveyAnswer, SurveyQuestion,  # noqa: F401
                     SurveyResponse, SurveyStatus)
from .attachment import Attachment, AttachmentCategory, Confidentiality  # noqa: F401
from .card import Card, CardKind, CardStatus  # noqa: F401
from .handover import Handover, HandoverDefect, HandoverStatus, OwnershipTransfer  # noqa: F401
