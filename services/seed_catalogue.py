"""The service catalogue of ../shared/DOMAIN.md, as seed data.

Each row: code, name, category, unit, availability for Core / Advanced / Performance
("I" included, "+" add-on, "L" limited, "-" unavailable), minimum and maximum
quantity (None: unbounded), whether the line is an hour block deducted as used
(R11), and a note. Loaded by the migration services 0002_seed_catalogue (it creates
missing rows and never overwrites what staff edited); tests load it too. Staff edit
the rows afterwards through services.services.service_update (the admin).
"""

from services.choices import Availability, Category, Unit

A = {
    "I": Availability.INCLUDED,
    "+": Availability.ADD_ON,
    "L": Availability.LIMITED,
    "-": Availability.UNAVAILABLE,
}

# fmt: off
ROWS = [
    # code, name, category, unit, C, A, P, min, max, hour_block, note
    ("proof-of-concept", "Proof of Concept", Category.PLANNING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("onboarding", "Onboarding Services", Category.IMPLEMENTATION, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("on-demand-assessment", "On-demand Assessment", Category.MAINTENANCE, Unit.UNITS, "I", "I", "I", None, None, False,
     "Needs an active cloud subscription; optional paid engineer onsite (at most 2 days) or remote (at most 1 day) (R21)."),
    ("assessment-program", "Assessment Program", Category.MAINTENANCE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("offline-assessment", "Offline Assessment", Category.MAINTENANCE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("proactive-monitoring", "Proactive Monitoring", Category.MAINTENANCE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("pop", "Proactive Operations Programs (POP)", Category.MAINTENANCE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("rap-as-a-service", "RAP as a Service", Category.MAINTENANCE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("adoption", "Adoption Services", Category.OPTIMIZATION, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("development-focused", "Development Focused Services", Category.OPTIMIZATION, Unit.HOURS, "+", "+", "+", None, None, True,
     "Services Insights for Developers and Development Support Assistance (DSA, sold in hours)."),
    ("itsm", "IT Services Management", Category.OPTIMIZATION, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("security-services", "Security Services", Category.OPTIMIZATION, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("on-demand-education", "On-demand Education", Category.EDUCATION, Unit.UNITS, "I", "I", "I", None, None, False, ""),
    ("webcasts", "Webcasts", Category.EDUCATION, Unit.UNITS, "I", "I", "I", None, None, False, ""),
    ("chalk-talks", "Chalk Talks", Category.EDUCATION, Unit.DAYS, "+", "+", "+", None, None, False, "Usually one day."),
    ("workshops", "Workshops", Category.EDUCATION, Unit.PARTICIPANTS, "+", "+", "+", None, None, False,
     "Per participant or as a dedicated delivery; may be cancelled under a minimum enrolment (R20)."),
    ("custom-proactive", "Custom Proactive Services", Category.ADDITIONAL_PROACTIVE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("sta", "Support Technology Advisor (STA)", Category.ADDITIONAL_PROACTIVE, Unit.UNITS, "+", "+", "I", None, None, False, ""),
    ("proactive-credits", "Proactive Credits", Category.OTHER_PROACTIVE, Unit.CREDITS, "+", "+", "+", None, None, False,
     "Prepaid value redeemed for add-on services at current rates (R10)."),
    ("advisory-support", "Advisory Support", Category.REACTIVE, Unit.UNITS, "I", "I", "I", None, None, False,
     "Phone advice, at most 6 hours per request (R23)."),
    ("problem-resolution", "Problem Resolution Support", Category.REACTIVE, Unit.UNITS, "I", "I", "I", None, None, False,
     "Incidents by phone or web."),
    ("rsm", "Reactive Support Management", Category.REACTIVE, Unit.UNITS, "I", "I", "I", None, None, False, "See R8."),
    ("extended-hotfix", "Extended Hotfix Support", Category.REACTIVE, Unit.UNITS, "+", "I", "I", None, None, False, ""),
    ("onsite-support", "Onsite Support", Category.REACTIVE, Unit.DAYS, "+", "+", "+", None, None, False,
     "Onsite visits not prepaid are billed for travel and expenses (R19)."),
    ("root-cause-analysis", "Root Cause Analysis", Category.REACTIVE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("rsm-add-on", "Reactive Support Management Add-on", Category.REACTIVE, Unit.HOURS, "+", "+", "+", None, None, True,
     "Hours, for out-of-hours coverage (R8)."),
    ("cybersecurity-incident", "Cybersecurity incident support", Category.REACTIVE, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("customer-enablement", "Customer Organization Enablement", Category.SERVICE_DELIVERY, Unit.UNITS, "I", "I", "I", None, None, False, ""),
    ("updates-guidance", "Product, Service and Security Updates Guidance", Category.SERVICE_DELIVERY, Unit.UNITS, "I", "I", "I", None, None, False, ""),
    ("program-management", "Program Development & Management", Category.SERVICE_DELIVERY, Unit.UNITS, "I", "I", "I", None, None, False, ""),
    ("unified-onboarding", "Unified Support Onboarding", Category.SERVICE_DELIVERY, Unit.UNITS, "I", "I", "I", None, None, False, ""),
    ("cloud-success", "Cloud Success Program", Category.SERVICE_DELIVERY, Unit.UNITS, "+", "I", "I", None, None, False, ""),
    ("executive-relationship", "Executive Relationship Management", Category.SERVICE_DELIVERY, Unit.UNITS, "+", "I", "I", None, None, False, ""),
    ("sdm-add-on", "Service Delivery Management Add-on", Category.SERVICE_DELIVERY, Unit.HOURS, "+", "+", "+", None, None, False, ""),
    ("onsite-sdm", "Onsite Service Delivery Management", Category.SERVICE_DELIVERY, Unit.VISITS, "+", "+", "+", None, None, False,
     "Cost per visit (R19)."),
    ("dse", "Designated Support Engineering (DSE)", Category.ENHANCED, Unit.HOURS, "+", "+", "+", None, None, True,
     "Hours or predefined packages; ends with the work order; business hours only; one support location (R13)."),
    ("rapid-response", "Rapid Response", Category.ENHANCED, Unit.UNITS, "+", "+", "+", None, None, False,
     "15-minute response to critical cloud incidents (R9)."),
    ("developer-advanced", "Developer Advanced", Category.ENHANCED, Unit.HOURS, "-", "L", "L", 320, 800, True,
     "Advanced or Performance only; 320 to 800 ADM hours (R12)."),
    ("developer-performance", "Developer Performance", Category.ENHANCED, Unit.HOURS, "-", "-", "+", 800, None, True,
     "Performance only; at least 800 ADM hours (R12)."),
    ("mission-critical", "Support for Mission Critical", Category.ENHANCED, Unit.UNITS, "+", "+", "+", None, None, False,
     "Custom programme described in an annex."),
    # Consulting (section 3 of the source): bought per project with every package (R27).
    ("custom-consulting", "Custom Consulting Services", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False,
     "Scope, timeline and milestones in a statement of work."),
    ("architecture-services", "Architecture Services", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("digital-advisory", "Digital Advisory Services", Category.CONSULTING, Unit.HOURS, "+", "+", "+", None, None, True,
     "Packs of about 200, 400, 800 or 1600 hours, part-time or full-time advisor (R26)."),
    ("digital-ready", "Digital-ready Advisory Packages", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("solution-planning", "Solution Planning", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("dtdps", "Developer Tools Deployment Planning Services (DTDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("azdps", "Azure Deployment Planning Services (AZDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("ddps", "Desktop Deployment Planning Services (DDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("dydps", "Dynamics Deployment Planning Services (DYDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("sedps", "Skype for Business and Exchange Deployment Planning Services (S&EDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("pvdps", "Private Cloud and Virtualization Deployment Planning Services (PVDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("ssdps", "SQL Server Deployment Planning Services (SSDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("sdps", "SharePoint Deployment Planning Services (SDPS)", Category.CONSULTING, Unit.DAYS, "+", "+", "+", None, None, False, ""),
    ("user-experience", "User Experience", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("project-governance", "Project Governance", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("solution-architecture", "Solution Architecture", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
    ("solution-delivery", "Solution Delivery", Category.CONSULTING, Unit.UNITS, "+", "+", "+", None, None, False, ""),
]
# fmt: on

#: Seed §4.2.1: scheduled only with the vendor's written consent (services 0005).
NEEDS_VENDOR_CONSENT = frozenset({"workshops"})


def catalogue_rows() -> list[dict]:
    """The seed rows as model field dictionaries."""
    out = []
    for code, name, category, unit, c, a, p, lo, hi, hour_block, note in ROWS:
        out.append(
            {
                "code": code,
                "name": name,
                "category": category,
                "unit": unit,
                "availability_core": A[c],
                "availability_advanced": A[a],
                "availability_performance": A[p],
                "min_quantity": lo,
                "max_quantity": hi,
                "is_hour_block": hour_block,
                "notes": note,
                "needs_vendor_consent": code in NEEDS_VENDOR_CONSENT,
            }
        )
    return out
