"""Link reports in the admin: the list, a page per report with its chart, "generate now",
and one-click "apply suggested address" for moved resources.

Reading a report needs view permission on LinkReport. "Generate now" writes a report and
emails every curator, so it needs the add permission on LinkReport (the admin's own add form
stays closed: reports are written by the generator only); "apply" writes the resource, so it
needs change permission on Resource.

Registered when curation.admin imports this module.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from curation.admin.display import time_field
from curation.catalog.services import DuplicateResource
from curation.health.actions import MonitoringError, apply_suggested_url
from curation.models import HealthState, LinkReport, ReportStatus, Resource
from curation.reports.chart import render_health_chart
from curation.reports.delivery import generate_and_deliver
from curation.reports.formats import CONTENT_TYPES, FORMATS, render
from curation.reports.periods import Period, is_scheduled, period_to_now

DOWNLOAD_EXTENSIONS = {"json": "json", "csv": "csv", "md": "md"}
CHANGE_RESOURCE = "curation.change_resource"


@admin.register(LinkReport)
class LinkReportAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "changed",
        "newly_broken",
        "moved",
        "generated_at_shown",
        "emailed_at_shown",
        "email_recipients",
    ]
    list_filter = ["status"]
    date_hierarchy = "period_end"
    change_list_template = "curation/reports/admin_change_list.html"
    # Reports are written by the generator only: the admin shows them, never edits them.
    readonly_fields = [
        "period_start",
        "period_end",
        "status",
        "claimed_at",
        "generated_at",
        "emailed_at",
        "email_recipients",
        "error",
    ]

    generated_at_shown = time_field("generated_at", "generated at")
    emailed_at_shown = time_field("emailed_at", "emailed at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_generate_permission(self, request: HttpRequest) -> bool:
        """Creating a report is what the add permission on LinkReport grants."""
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('add', opts)}")

    def changelist_view(self, request, extra_context=None):
        extra_context = {"report_period_days": settings.REPORT_PERIOD_DAYS, **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and not self.has_generate_permission(request):
            # The "Generate now" button is all our list template adds: without the right to
            # generate, the admin's own list is shown instead.
            opts = self.model._meta
            response.template_name = [
                f"admin/{opts.app_label}/{opts.model_name}/change_list.html",
                f"admin/{opts.app_label}/change_list.html",
                "admin/change_list.html",
            ]
        return response

    @admin.display(boolean=True, description="changed")
    def changed(self, report: LinkReport) -> bool | None:
        if report.status != ReportStatus.READY:
            return None
        return bool(report.data.get("changed"))

    @admin.display(description="newly broken")
    def newly_broken(self, report: LinkReport) -> int | str:
        return report.data.get("newly_broken", {}).get("total", "-")

    @admin.display(description="moved")
    def moved(self, report: LinkReport) -> int | str:
        return report.data.get("moved", {}).get("total", "-")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("generate/", wrap(self.generate_view), name="curation_linkreport_generate"),
            path(
                "<int:report_id>/apply/<int:resource_id>/",
                wrap(self.apply_view),
                name="curation_linkreport_apply",
            ),
            path(
                "<int:report_id>/chart.svg", wrap(self.chart_view), name="curation_linkreport_chart"
            ),
            path(
                "<int:report_id>/download.<str:fmt>",
                wrap(self.download_view),
                name="curation_linkreport_download",
            ),
            *super().get_urls(),
        ]

    def _report_or_404(self, request: HttpRequest, report_id: int) -> LinkReport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(LinkReport, pk=report_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            report_id = int(object_id)
        except ValueError:
            raise Http404("No such report") from None
        report = self._report_or_404(request, report_id)
        data = report.data or {}
        moved = data.get("moved", {}).get("items", [])
        # The stored list is a snapshot; only offer "apply" where the suggestion still stands.
        pending = set(
            Resource.objects.filter(
                pk__in=[item["resource_id"] for item in moved], health=HealthState.MOVED
            )
            .exclude(suggested_url="")
            .values_list("pk", flat=True)
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(report),
            "report": report,
            "data": data,
            "ready": report.status == ReportStatus.READY,
            # Times in the sections read as people read them, exact value on hover.
            "admin_times": True,
            "on_demand": not is_scheduled(Period(report.period_start, report.period_end)),
            "period_days": settings.REPORT_PERIOD_DAYS,
            # Built by render_health_chart, which escapes every piece of text it writes.
            "chart_svg": mark_safe(render_health_chart(data.get("history", []))),  # noqa: S308
            "pending_moves": pending,
            "admin_actions": request.user.has_perm(CHANGE_RESOURCE),
            "downloads": [
                (fmt, reverse("admin:curation_linkreport_download", args=[report.pk, fmt]))
                for fmt in FORMATS
            ],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "curation/reports/admin_detail.html", context)

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not self.has_generate_permission(request):
            raise PermissionDenied
        # "Now" means the period up to now, with what happened today in it; the schedule
        # keeps reporting complete periods.
        now = timezone.now()
        generation, delivery = generate_and_deliver(period=period_to_now(now), now=now)
        report = generation.report
        if generation.created:
            note = f"Generated {report}."
            if delivery is not None:
                note += (
                    f" Emailed to {delivery.sent} curator(s)."
                    if delivery.sent
                    else f" Not emailed: {delivery.skipped_reason}."
                )
            self.message_user(request, note, messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"{report} already exists ({report.get_status_display().lower()}): one report "
                "per period. Showing it.",
                messages.INFO,
            )
        return HttpResponseRedirect(reverse("admin:curation_linkreport_change", args=[report.pk]))

    def apply_view(self, request: HttpRequest, report_id: int, resource_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        report = self._report_or_404(request, report_id)
        if not request.user.has_perm(CHANGE_RESOURCE):
            raise PermissionDenied
        resource = get_object_or_404(Resource, pk=resource_id)
        back = reverse("admin:curation_linkreport_change", args=[report.pk])
        old_url = resource.url
        try:
            updated = apply_suggested_url(resource.pk, by=request.user)
        except (MonitoringError, DuplicateResource) as exc:
            self.message_user(request, f"{resource}: {exc}", messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request, f"“{updated}” now points at {updated.url} (was {old_url}).", messages.SUCCESS
        )
        return HttpResponseRedirect(back)

    def chart_view(self, request: HttpRequest, report_id: int) -> HttpResponse:
        report = self._report_or_404(request, report_id)
        svg = render_health_chart((report.data or {}).get("history", []))
        return HttpResponse(svg, content_type="image/svg+xml")

    def download_view(self, request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
        report = self._report_or_404(request, report_id)
        if fmt not in FORMATS or report.status != ReportStatus.READY:
            raise Http404("No such format, or the report is not ready")
        response = HttpResponse(render(report, fmt), content_type=CONTENT_TYPES[fmt])
        name = f"link-report-{report.period_end:%Y-%m-%d}.{DOWNLOAD_EXTENSIONS[fmt]}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
