"""Imports every capability's models so the metadata (and Alembic) sees every table."""

from backend.accounts.models import WechatAccount  # noqa: F401
from backend.archives.models import (  # noqa: F401  (issue 17, Art. 8)
    Archive,
    ArchiveAccessLog,
    ArchiveFile,
    ArchiveInspection,
    ArchiveItem,
    ArchiveLocation,
    ArchiveRequest,
)
from backend.assessment.models import IndicatorSetting, UnitFigure  # noqa: F401  (issue 20)
from backend.assistance.models import AssistanceAttachment, AssistanceCase, AssistanceEvent  # noqa: F401  (issue 16)
from backend.audit.models import AuditLog  # noqa: F401
from backend.bookings.models import (  # noqa: F401  (bookings slice, issue 14)
    Booking,
    BookingBlock,
    BookingService,
    CalendarDay,
    Slot,
)
from backend.care.models import ContactDigest, ContactPlan, ContactPolicy, ContactRecord  # noqa: F401  (care C1, issue 16)
from backend.education.models import EducationAttendance, EducationCampaign, EducationSession  # noqa: F401  (issue 19)
from backend.employment.models import CivicActivity, CivicRole, EmploymentRecord, EmploymentSupport  # noqa: F401  (issue 19)
from backend.exports.models import ExportJob  # noqa: F401  (exports slice, issue 12)
from backend.feedback.models import (  # noqa: F401  (issue 20)
    Complaint,
    ComplaintAttachment,
    FeedbackCase,
    FeedbackCaseEvent,
    Rating,
)
from backend.figures.models import UnitStat  # noqa: F401  (aggregates slice, issue 12)
from backend.groups.models import SelfGroup, SelfGroupActivity, SelfGroupMember  # noqa: F401  (issue 16, C4)
from backend.honors.models import Award, Ceremony, ChronicleEntry, Invitation  # noqa: F401  (issue 17, Art. 11)
from backend.idempotency.models import IdempotencyKey  # noqa: F401  (phone slice, issue 10)
from backend.inbox.models import InboxMessage  # noqa: F401
from backend.keys.models import PiiKeyVersion, PiiRotation  # noqa: F401  (issue 15)
from backend.notifications.models import (  # noqa: F401  (notifications slice, issue 13)
    CallTask,
    Delivery,
    MessageTemplate,
    MessageTemplateVersion,
    Notification,
    NotificationPick,
    VeteranTag,
)
from backend.onboarding.models import (  # noqa: F401  (issue 17, Art. 7)
    OnboardingAttachment,
    OnboardingCase,
    OnboardingEvent,
    OnboardingStep,
)
from backend.orgs.models import OrgUnit  # noqa: F401
from backend.party.models import PartyBranch, PartyEvaluation, PartyMembership, PartyTransfer  # noqa: F401  (issue 19)
from backend.pension.models import (  # noqa: F401  (issue 18, Art. 10 and 22)
    AdjustmentBatch,
    AdjustmentLine,
    BankLayout,
    FundingTotal,
    PayAccount,
    PayAmount,
    PayProfile,
    PayrollLine,
    PayrollReturn,
    PayrollRun,
    PayRule,
    PayStateEvent,
)
from backend.registration.models import (  # noqa: F401
    Registration,
    RegistrationAttachment,
    RegistrationEvent,
    RegistrationReminder,
    RegistrationWindow,
    Talk,
)
from backend.staff.models import Staff, StaffRecoveryCode, StaffRole  # noqa: F401
from backend.subscriptions.models import SubscriptionAccept, SubscriptionCredit, WechatEvent  # noqa: F401
from backend.training.models import TrainingAttendance, TrainingSession, UnitResponsible  # noqa: F401  (issue 19)
from backend.travel.models import TravelConsent, Trip, TripEvent  # noqa: F401
from backend.veterans.models import ImportJob, Veteran, VeteranHistory  # noqa: F401
from backend.visits.models import Visit, VisitCampaign, VisitPhoto  # noqa: F401  (issue 16, C2)
