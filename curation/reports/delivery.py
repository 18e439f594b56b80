"""Emailing a ready link report to the Curators group, exactly once per report.

The send is claimed with a conditional UPDATE on LinkReport.emailed_at: of two workers
delivering the same report, one sets it and sends; the other sees it set and sends nothing.
A send that raises gives the claim back so the next trigger retries. A process killed
between the claim and the send loses that email rather than risking a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from curation.models import LinkReport, ReportStatus
from curation.reports.generate import GenerationResult, generate_link_report
from curation.reports.periods import Period

logger = logging.getLogger(__name__)

CURATORS_GROUP = "Curators"
TEMPLATE_DIR = "curation/reports"


@dataclass
class DeliveryResult:
    sent: int
    skipped_reason: str = ""


def curator_addresses() -> list[str]:
    """Email addresses of active users in the Curators group, each once, in a stable order."""
    users = (
        get_user_model()
        .objects.filter(groups__name=CURATORS_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .order_by("email")
        .distinct()
    )
    seen: dict[str, str] = {}
    for address in users:
        seen.setdefault(address.strip().lower(), address.strip())
    return list(seen.values())


def report_admin_url(report: LinkReport) -> str:
    base = settings.REPORT_BASE_URL.rstrip("/")
    try:
        path = reverse("admin:curation_linkreport_change", args=[report.pk])
    except NoReverseMatch:
        return ""
    return f"{base}{path}" if base else ""


def render_report_email(report: LinkReport) -> tuple[str, str, str]:
    """The subject, plain-text body and HTML body of the report's email."""
    context = {"report": report, "data": report.data, "report_url": report_admin_url(report)}
    subject_prefix = settings.REPORT_EMAIL_SUBJECT_PREFIX
    subject = subject_prefix + " ".join(
        render_to_string(f"{TEMPLATE_DIR}/subject.txt", context).split()
    )
    context["subject"] = subject
    text = render_to_string(f"{TEMPLATE_DIR}/email.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/email.html", context)
    return subject, text, html


def deliver_report(
    report: LinkReport, *, force: bool = False, now: datetime | None = None
) -> DeliveryResult:
    """Email `report` to the curators, once.

    Skipped (sent=0, with the reason) when the report is not ready, when it was emailed
    before, when nothing changed and REPORT_EMAIL_ONLY_ON_CHANGE is on (unless `force`), or
    when no curator has an email address. Exceptions from the email backend propagate after
    the claim is released.
    """
    if report.status != ReportStatus.READY:
        return DeliveryResult(0, "report is not ready")
    only_on_change = settings.REPORT_EMAIL_ONLY_ON_CHANGE
    if only_on_change and not force and not report.data.get("changed"):
        return DeliveryResult(0, "nothing changed")
    recipients = curator_addresses()
    if not recipients:
        logger.warning("link report %s: no curator has an email address", report.pk)
        return DeliveryResult(0, "no curator has an email address")
    now = now or timezone.now()
    claimed = LinkReport.objects.filter(pk=report.pk, emailed_at__isnull=True).update(
        emailed_at=now
    )
    if claimed != 1:
        return DeliveryResult(0, "already emailed")
    try:
        subject, text, html = render_report_email(report)
        # One message per curator: the group's addresses are not shown to one another.
        messages = []
        for address in recipients:
            message = EmailMultiAlternatives(
                subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[address]
            )
            message.attach_alternative(html, "text/html")
            messages.append(message)
        sent = get_connection().send_messages(messages) or 0
    except Exception:
        LinkReport.objects.filter(pk=report.pk, emailed_at=now).update(emailed_at=None)
        raise
    LinkReport.objects.filter(pk=report.pk).update(email_recipients=sent)
    report.refresh_from_db()
    return DeliveryResult(sent)


def generate_and_deliver(
    *, period: Period | None = None, email: bool = True, now: datetime | None = None
) -> tuple[GenerationResult, DeliveryResult | None]:
    """Generate the period's report (once) and email it (once): what every trigger calls.

    Delivery is attempted even when the report already existed, so a send that failed on
    an earlier trigger is retried by the next one; the claim keeps it to one email.
    """
    generation = generate_link_report(period=period, now=now)
    if not email or generation.report.status != ReportStatus.READY:
        return generation, None
    return generation, deliver_report(generation.report, now=now)
