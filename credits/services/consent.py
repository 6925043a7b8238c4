"""The vendor's written consent (seed §4.2.1): a service the catalogue marks
`needs_vendor_consent` (workshops) is scheduled only once staff recorded that consent
for the work order: who recorded it, when, and where the written consent is."""

from django.utils.translation import gettext as _

from core.actors import author
from core.errors import RuleViolation
from credits.models import VendorConsent
from credits.services.common import require_editor


def vendor_consent_for(*, work_order, service) -> VendorConsent | None:
    """The latest consent recorded for `service` on `work_order`, or None."""
    return (
        VendorConsent.objects.filter(work_order=work_order, service=service)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-id")
        .first()
    )


def consent_refusal(*, work_order, service, reference: str = "") -> RuleViolation | None:
    """The plain-words refusal to schedule `service` without the vendor's consent, or None."""
    if not service.needs_vendor_consent or (reference or "").strip():
        return None
    if vendor_consent_for(work_order=work_order, service=service) is not None:
        return None
    return RuleViolation(
        _(
            "%(service)s can only be scheduled with the vendor's written consent, and none "
            "is recorded for this work order yet. Your account manager asks the vendor and "
            "records the consent; then you can book it."
        )
        % {"service": service.name},
        field="vendor_consent",
        code="vendor_consent_required",
    )


def vendor_consent_record(*, work_order, service, reference: str, by) -> VendorConsent:
    """Staff record the vendor's written consent to schedule `service` on `work_order`.

    Call inside the caller's transaction when it is part of a booking."""
    require_editor(by, rule="R10", what=_("record the vendor's consent"))
    reference = (reference or "").strip()
    if not reference:
        raise RuleViolation(
            _("Say where the vendor's written consent is (a mail, a letter or a ticket)."),
            field="vendor_consent",
            code="vendor_consent_reference_required",
        )
    if not service.needs_vendor_consent:
        raise RuleViolation(
            _("%(service)s is booked without the vendor's consent; nothing to record.")
            % {"service": service.name},
            field="service",
            code="vendor_consent_not_needed",
        )
    return VendorConsent.objects.create(
        work_order=work_order,
        service=service,
        reference=reference[:300],
        recorded_by=author(by),
    )
