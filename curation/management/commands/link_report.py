"""`python manage.py link_report`: generate (once) and print the current period's report."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from curation.reports.delivery import deliver_report, generate_and_deliver
from curation.reports.formats import FORMATS, render
from curation.reports.periods import current_period, period_ending_at


def _parse_end(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--period-end must be an ISO date or datetime, got {value!r}")
        parsed = datetime(day.year, day.month, day.day)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class Command(BaseCommand):
    help = (
        "Generate the link-health report for the current period (the last complete one) "
        "unless it exists, email it to the curators, and print it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period-end",
            help="End of the period (ISO date or datetime, UTC if no zone); the period is "
            "REPORT_PERIOD_DAYS long. Default: the last grid boundary (Monday 00:00 UTC).",
        )
        parser.add_argument("--no-email", action="store_true", help="Do not email the report.")
        parser.add_argument(
            "--force-email",
            action="store_true",
            help="Email even when nothing changed (still at most once per report).",
        )
        parser.add_argument(
            "--format", choices=FORMATS, default="md", help="How to print the report (default md)."
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing but errors.")

    def handle(self, *args, **options):
        period = (
            period_ending_at(_parse_end(options["period_end"]))
            if options["period_end"]
            else current_period()
        )
        email = not options["no_email"]
        generation, delivery = generate_and_deliver(
            period=period, email=email and not options["force_email"]
        )
        if email and options["force_email"]:
            delivery = deliver_report(generation.report, force=True)
        report = generation.report
        if not options["quiet"]:
            self.stdout.write(render(report, options["format"]) if report.data else "")
        state = "generated" if generation.created else f"already existed ({report.status})"
        if delivery is None:
            mailed = "not emailed"
        elif delivery.sent:
            mailed = f"emailed to {delivery.sent} curator(s)"
        else:
            mailed = f"not emailed: {delivery.skipped_reason}"
        self.stderr.write(
            f"Report #{report.pk} for {period.start:%Y-%m-%d %H:%M} to "
            f"{period.end:%Y-%m-%d %H:%M} UTC {state}; {mailed}."
        )
