"""Writes of the credits app: the append-only ledger, redemptions, hour blocks and R18 shortfalls.

Every function validates first and raises RuleViolation/Conflict naming the rule
before anything is written; writes happen inside one transaction that locks the
work order's CreditAccount (see credits.ledger), so nothing is ever half-written
and concurrent writers on one balance are serialised.
"""

from credits.services.balance import credits_adjust, credits_grant, credits_sa_conversion
from credits.services.cancellation import redemption_cancel
from credits.services.common import round_credits
from credits.services.consent import vendor_consent_for, vendor_consent_record
from credits.services.delivery import redemption_mark_delivered, redemptions_lapse
from credits.services.engagements import consulting_engagement_create, milestone_complete
from credits.services.hours import (
    anniversaries_due,
    credits_expire,
    credits_expire_on_extension,
    entitlements_anniversary_lapse,
    time_entry_record,
)
from credits.services.rates import rate_check, rate_create, redemption_cost
from credits.services.redemptions import (
    credits_redeem,
    credits_redeem_check,
    delivery_modes_for,
    redemption_exchange,
)
from credits.services.reschedule import redemption_reschedule, reschedule_fee
from credits.services.shortfall import shortfall_invoice_record, shortfall_invoice_void

__all__ = [
    "anniversaries_due",
    "consulting_engagement_create",
    "credits_expire_on_extension",
    "entitlements_anniversary_lapse",
    "milestone_complete",
    "credits_adjust",
    "credits_expire",
    "credits_grant",
    "credits_redeem",
    "credits_redeem_check",
    "delivery_modes_for",
    "credits_sa_conversion",
    "rate_check",
    "rate_create",
    "redemption_cancel",
    "redemption_cost",
    "redemption_exchange",
    "redemption_mark_delivered",
    "redemption_reschedule",
    "redemptions_lapse",
    "reschedule_fee",
    "round_credits",
    "shortfall_invoice_record",
    "shortfall_invoice_void",
    "time_entry_record",
    "vendor_consent_for",
    "vendor_consent_record",
]
