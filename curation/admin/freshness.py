"""Freshness in the resource admin: "Confirm still worth recommending" (an action and a button
on the resource's page) and the "needs review" queue, each row saying why.

Confirming writes the resource (its `last_reviewed_at`): as an action, a button or from the
queue it needs change permission, and it goes through `catalog.freshness.mark_reviewed`.
The queue itself needs only view permission.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from curation.admin.buttons import object_button
from curation.admin.display import when
from curation.catalog import freshness
from curation.models import Resource

QUEUE_PAGE_SIZE = 100
MAX_ID = 2**63 - 1
CONFIRM = "Confirm still worth recommending"


def _confirmed(modeladmin, request: HttpRequest, ids: list[int]) -> int:
    changed = freshness.mark_reviewed(ids, by=request.user)
    modeladmin.message_user(
        request,
        f"Confirmed {changed} resource(s) still worth recommending; "
        "they leave the review queue until their review period runs out again.",
        messages.SUCCESS,
    )
    return changed


class FreshnessAdminMixin:
    """Mixed into ResourceAdmin: the review panel and button, the action, the queue."""

    freshness_actions: tuple[str, ...] = ("confirm_still_recommended",)

    def freshness_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        """The review panel, with its button only for those who may use it."""
        if obj is not None and self.has_change_permission(request, obj):
            return ("review_panel",)
        return ("review_panel_read_only",)

    def _review_panel(self, resource: Resource, *, offers: bool) -> str:
        if resource.pk is None:
            return "—"
        state = freshness.with_review_state(Resource.objects.filter(pk=resource.pk)).first()
        reasons = freshness.review_reasons(state)
        parts = [
            format_html(
                "<p>Last reviewed: {}; next review due {} (every {} days).</p>",
                when(resource.last_reviewed_at, empty="never"),
                when(state.review_due_at),
                state.review_period_days,
            ),
            format_html("<p><strong>Needs review:</strong> {}.</p>", "; ".join(reasons))
            if reasons
            else format_html("<p>{}</p>", "Nothing asks for a review now."),
        ]
        if offers:
            parts.append(
                format_html(
                    '<p><button type="submit" class="button" formaction="{}">{}</button></p>',
                    reverse("admin:curation_resource_review", args=[resource.pk]),
                    CONFIRM,
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts))

    @admin.display(description="freshness")
    def review_panel(self, resource: Resource) -> str:
        return self._review_panel(resource, offers=True)

    @admin.display(description="freshness")
    def review_panel_read_only(self, resource: Resource) -> str:
        return self._review_panel(resource, offers=False)

    # --- pages ---

    def get_urls(self):
        extra = [
            path(
                "needs-review/",
                self.admin_site.admin_view(self.needs_review_view),
                name="curation_resource_needs_review",
            ),
            path(
                "<int:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="curation_resource_review",
            ),
        ]
        return extra + super().get_urls()

    def review_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The button on the resource's page: confirm, then back to the page."""
        return object_button(
            self, request, object_id, lambda _: _confirmed(self, request, [object_id])
        )

    def needs_review_view(self, request: HttpRequest) -> HttpResponse:
        """The queue: resources that need review, the longest unreviewed first, with the reasons."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_confirm = self.has_change_permission(request)
        if request.method == "POST":
            if not can_confirm:
                raise PermissionDenied
            ids = [
                int(value)
                for value in request.POST.getlist("resource")
                if value.isascii() and value.isdigit() and int(value) <= MAX_ID
            ]
            if ids:
                _confirmed(self, request, ids)
            else:
                self.message_user(request, "Select the resources to confirm.", messages.WARNING)
            return HttpResponseRedirect(request.get_full_path())
        now = timezone.now()
        queue = freshness.needs_review(now=now)
        page = Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [
            {
                "resource": resource,
                "last_reviewed": when(resource.last_reviewed_at, now=now, empty="never"),
                "due": when(resource.review_due_at, now=now),
                "reasons": reasons,
            }
            for resource, reasons in freshness.explain_reviews(page.object_list, now=now)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Resources that need review",
            "opts": self.model._meta,
            "page": page,
            "rows": rows,
            "can_confirm": can_confirm,
            "confirm_label": CONFIRM,
        }
        return TemplateResponse(request, "admin/curation/resource/needs_review.html", context)

    # --- the action ---

    def get_actions(self, request):
        actions = super().get_actions(request)
        extra = [self.get_action(name) for name in self.freshness_actions]
        for func, name, description in self._filter_actions_by_permissions(request, extra):
            actions[name] = (func, name, description)
        return actions

    @admin.action(description=CONFIRM, permissions=["change"])
    def confirm_still_recommended(self, request, queryset):
        _confirmed(self, request, list(queryset.values_list("pk", flat=True)))
