"""Link reports over the API: the latest report and a report by id, as JSON, CSV or Markdown.

Reports are for curators: an authenticated staff user with curation.view_linkreport. The
format comes from ?format=json|csv|md, a suffix (/reports/latest.csv) or the Accept header.
Included into api/urls.py as `urlpatterns += report_urlpatterns`.
"""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.http import reject_empty
from api.permissions import AUTHENTICATION
from api.schema import ERROR_DESCRIPTIONS
from api.serializers import ErrorSerializer
from api.throttling import AnonThrottle, UserThrottle
from curation.models import LinkReport, ReportStatus
from curation.reports.formats import render_csv, report_payload
from curation.reports.markdown import render_markdown

REPORT_FORMATS = {"application/json": "json", "text/csv": "csv", "text/markdown": "md"}


def report_responses() -> dict:
    """The report in each format; an error in the API's JSON shape, or as one line of text
    when CSV or Markdown was asked for."""
    responses = {
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, "The report."),
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, "The report as CSV."),
        (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, "The report as Markdown."),
    }
    for code in ("400", "401", "403", "404", "429"):
        for media_type in REPORT_FORMATS:
            shape = ErrorSerializer if media_type == "application/json" else OpenApiTypes.STR
            responses[(int(code), media_type)] = OpenApiResponse(shape, ERROR_DESCRIPTIONS[code])
    return responses


class CanViewReports(BasePermission):
    message = "Link reports are for curators: staff with the view link report permission."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and user.has_perm("curation.view_linkreport")
        )


class _ReportTextRenderer(BaseRenderer):
    """Renders the view's report with one of the text renderers of curation.reports."""

    charset = "utf-8"

    def render_report(self, report: LinkReport) -> str:
        raise NotImplementedError

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        report = getattr(renderer_context.get("view"), "report", None)
        response = renderer_context.get("response")
        if report is None or (response is not None and response.status_code >= 400):
            # An error (403, 404, throttled) in the format asked for: its message as text.
            detail = data.get("detail", "") if isinstance(data, dict) else data
            return f"{detail}\n".encode()
        return self.render_report(report).encode(self.charset)


class ReportCSVRenderer(_ReportTextRenderer):
    media_type = "text/csv"
    format = "csv"

    def render_report(self, report: LinkReport) -> str:
        return render_csv(report)


class ReportMarkdownRenderer(_ReportTextRenderer):
    media_type = "text/markdown"
    format = "md"

    def render_report(self, report: LinkReport) -> str:
        return render_markdown(report)


class _ReportView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [CanViewReports]
    throttle_classes = [AnonThrottle, UserThrottle]
    renderer_classes = [JSONRenderer, ReportCSVRenderer, ReportMarkdownRenderer]
    report: LinkReport | None = None

    def get_report(self, **kwargs) -> LinkReport:
        raise NotImplementedError

    @extend_schema(
        tags=["reports"],
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(REPORT_FORMATS.values()),
                required=False,
                description="json (the default), csv or md; the Accept header also chooses.",
            ),
        ],
        responses=report_responses(),
    )
    def get(self, request, format=None, **kwargs):
        # "?format=" would quietly mean JSON; like every typed parameter of the API, empty is
        # a mistake the client should hear about.
        reject_empty(request.query_params, ("format",))
        self.report = self.get_report(**kwargs)
        response = Response(report_payload(self.report))
        if self.report is not None and request.accepted_renderer.format != "json":
            extension = request.accepted_renderer.format
            response["Content-Disposition"] = (
                f'inline; filename="link-report-{self.report.period_end:%Y-%m-%d}.{extension}"'
            )
        return response


@extend_schema_view(
    get=extend_schema(
        summary="The latest link-health report (curators)",
        description="Curators only: staff with the view link report permission.",
    )
)
class LatestReportView(_ReportView):
    """The most recent ready report."""

    def get_report(self, **kwargs) -> LinkReport:
        ready = LinkReport.objects.filter(status=ReportStatus.READY).order_by("-period_end")
        report = ready.first()
        if report is None:
            raise NotFound("No report has been generated yet.")
        return report


@extend_schema_view(
    get=extend_schema(
        summary="A link-health report by id (curators)",
        description="Curators only: staff with the view link report permission.",
    )
)
class ReportDetailView(_ReportView):
    """A ready report by id."""

    def get_report(self, **kwargs) -> LinkReport:
        report = LinkReport.objects.filter(pk=kwargs["pk"], status=ReportStatus.READY).first()
        if report is None:
            raise NotFound("No ready report with this id.")
        return report


class LatestReportFileView(LatestReportView):
    """/reports/latest.csv and friends: the same view, kept out of the OpenAPI schema (the
    ?format= parameter documents the choice once)."""

    schema = None


class ReportFileView(ReportDetailView):
    schema = None


# DRF reads the suffix from the `format` URL keyword; only the three formats are routed.
SUFFIX = r"\.(?P<format>json|csv|md)$"
report_urlpatterns = [
    path("reports/latest/", LatestReportView.as_view(), name="report-latest"),
    re_path(r"^reports/latest" + SUFFIX, LatestReportFileView.as_view(), name="report-latest-file"),
    path("reports/<int:pk>/", ReportDetailView.as_view(), name="report-detail"),
    re_path(r"^reports/(?P<pk>[0-9]+)" + SUFFIX, ReportFileView.as_view(), name="report-file"),
]
