"""Learners' problem reports: the curators' review queue (open, resolved, dismissed).

Each report shows the first check of its resource that ran after it: a report is a reason
to look, and that check is what tells whether the link is really broken.
"""

from __future__ import annotations

from django.contrib import admin, messages

from curation.admin.display import time_field, when
from curation.feedback import selectors as feedback_selectors
from curation.feedback import services as feedback_service
from curation.models import ProblemReport, ProblemStatus


@admin.register(ProblemReport)
class ProblemReportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at_shown", "resource", "kind", "status", "comment", "check_queued_shown",
        "followup",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["resource__title", "resource__url", "comment"]
    readonly_fields = [
        "resource", "kind", "new_url", "comment", "client", "status", "created_at_shown",
        "check_queued_shown", "followup", "decided_at_shown", "decided_by",
    ]  # fmt: skip
    created_at_shown = time_field("created_at", "reported")
    check_queued_shown = time_field("check_queued_at", "re-check queued")
    decided_at_shown = time_field("decided_at", "decided at")
    actions = ["resolve", "dismiss"]

    def get_queryset(self, request):
        return feedback_selectors.reports_with_followup()

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="check that followed")
    def followup(self, report) -> str:
        if report.followup_outcome is None:
            return "none yet"
        return f"{report.followup_outcome}, {when(report.followup_at)}"

    def _decide(self, request, queryset, status: str, verb: str) -> None:
        changed = feedback_service.decide_reports(queryset, status=status, user=request.user)
        self.message_user(request, f"{verb} {changed} report(s).", messages.SUCCESS)

    @admin.action(description="Resolve: the problem is dealt with", permissions=["change"])
    def resolve(self, request, queryset):
        self._decide(request, queryset, ProblemStatus.RESOLVED, "Resolved")

    @admin.action(description="Dismiss: nothing to do", permissions=["change"])
    def dismiss(self, request, queryset):
        self._decide(request, queryset, ProblemStatus.DISMISSED, "Dismissed")
