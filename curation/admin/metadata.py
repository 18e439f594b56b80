"""Metadata pieces of the curators' workbench: what the page says, and suggestions to decide."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from curation.admin.display import time_field, when
from curation.catalog.services import DuplicateResource
from curation.metadata import services as metadata_service
from curation.models import MetadataSuggestion, SuggestionStatus


class MetadataAdminMixin:
    """Adds the fetched-metadata panel to the resource page."""

    metadata_readonly_fields: tuple[str, ...] = ("fetched_metadata_panel",)

    @admin.display(description="what the page says (fetched, never copied over your words)")
    def fetched_metadata_panel(self, resource) -> str:
        stored = resource.fetched_metadata or {}
        fields = stored.get("fields") or {}
        if not stored:
            return "Not fetched yet."
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((name, entry.get("value"), entry.get("source", "")) for name, entry in fields.items()),
        )
        notes = []
        if stored.get("rejected_reason"):
            notes.append(f"Last fetch ignored: {stored['rejected_reason']}.")
        if stored.get("last_error"):
            notes.append(f"Last attempt failed: {stored['last_error'].get('message', '')}.")
        return format_html(
            "<p>Fetched {}. {}</p><table><tr><th>field</th><th>value</th><th>source</th></tr>"
            "{}</table>",
            when(stored.get("fetched_at"), empty="never"),
            " ".join(notes),
            rows,
        )


class MetadataSuggestionInline(admin.TabularInline):
    model = MetadataSuggestion
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["field", "current_value", "suggested_value", "source", "status", "created_at_shown"]
    readonly_fields = fields
    verbose_name_plural = "Suggestions from the page (decide them in Metadata suggestions)"

    created_at_shown = time_field("created_at", "created at")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=SuggestionStatus.PENDING)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MetadataSuggestion)
class MetadataSuggestionAdmin(admin.ModelAdmin):
    list_display = ["resource", "field", "current_value", "suggested_value", "source", "status"]
    list_filter = ["status", "field"]
    search_fields = ["resource__title", "suggested_value"]
    list_select_related = ["resource"]
    readonly_fields = [
        "resource", "field", "current_value", "suggested_value", "source", "status",
        "created_at_shown", "decided_at_shown", "decided_by",
    ]  # fmt: skip
    created_at_shown = time_field("created_at", "created at")
    decided_at_shown = time_field("decided_at", "decided at")
    actions = ["accept", "dismiss"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_accept_permission(self, request) -> bool:
        # Accepting writes the suggested value into the resource, not only the suggestion.
        return self.has_change_permission(request) and request.user.has_perm(
            "curation.change_resource"
        )

    @admin.action(description="Accept: apply the suggested value", permissions=["accept"])
    def accept(self, request, queryset):
        applied = 0
        for suggestion in queryset.filter(status=SuggestionStatus.PENDING):
            try:
                metadata_service.accept_suggestion(suggestion.pk, user=request.user)
                applied += 1
            except (
                ValidationError,
                DuplicateResource,
                metadata_service.SuggestionAlreadyDecided,
            ) as exc:
                self.message_user(request, f"{suggestion}: {exc}", messages.ERROR)
        self.message_user(request, f"Applied {applied} suggestion(s).", messages.SUCCESS)

    @admin.action(description="Dismiss: keep the curated value", permissions=["change"])
    def dismiss(self, request, queryset):
        dismissed = 0
        for suggestion in queryset.filter(status=SuggestionStatus.PENDING):
            metadata_service.dismiss_suggestion(suggestion.pk, user=request.user)
            dismissed += 1
        self.message_user(request, f"Dismissed {dismissed} suggestion(s).", messages.SUCCESS)
