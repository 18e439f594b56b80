"""Resources in the admin: the form, the check history, bulk actions; writes via the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html

from curation import enqueue
from curation.admin.archive import ArchiveAdminMixin
from curation.admin.display import time_field
from curation.admin.freshness import FreshnessAdminMixin
from curation.admin.health import HealthAdminMixin
from curation.admin.metadata import MetadataAdminMixin, MetadataSuggestionInline
from curation.catalog import services
from curation.checker.urlnorm import MAX_URL_LENGTH, InvalidURL, normalize_url
from curation.models import Difficulty, LinkCheck, PublicationStatus, Resource


class ResourceAdminForm(forms.ModelForm):
    url = forms.URLField(max_length=MAX_URL_LENGTH, assume_scheme="https")

    class Meta:
        model = Resource
        fields = [
            "url", "title", "description", "curator_note", "kind", "difficulty", "topics",
            "cost", "duration_minutes", "language", "author", "publisher", "status", "featured",
        ]  # fmt: skip

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            normalize_url(url)
        except InvalidURL as exc:
            raise forms.ValidationError(str(exc)) from None
        existing = services.find_duplicate(url, exclude_id=self.instance.pk)
        if existing is not None:
            link = reverse("admin:curation_resource_change", args=[existing.pk])
            raise forms.ValidationError(
                format_html(
                    'This URL is already in the catalogue as <a href="{}">“{}”</a> (resource #{}).',
                    link,
                    existing.title,
                    existing.pk,
                )
            )
        return url


class LinkCheckInline(admin.TabularInline):
    model = LinkCheck
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-checked_at", "-id"]
    fields = [
        "checked_at_shown", "outcome", "status_code", "rule", "final_url", "elapsed_ms", "source",
        "counted",
    ]  # fmt: skip
    readonly_fields = fields
    verbose_name_plural = "Check history (newest first)"

    checked_at_shown = time_field("checked_at", "checked at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-checked_at", "-id")


@admin.register(Resource)
class ResourceAdmin(
    ArchiveAdminMixin, FreshnessAdminMixin, HealthAdminMixin, MetadataAdminMixin, admin.ModelAdmin
):
    form = ResourceAdminForm
    list_display = [
        "title", "kind", "difficulty", "topic_list", "health_shown", "last_checked_at_shown",
        "status", "featured",
    ]  # fmt: skip
    list_filter = ["kind", "difficulty", "topics", "status", "health", "featured", "cost"]
    search_fields = ["title", "url", "curator_note", "description", "author"]
    autocomplete_fields = ["topics"]
    list_select_related = []
    date_hierarchy = "created_at"
    inlines = [MetadataSuggestionInline, LinkCheckInline]
    # Times and the health label are shown through curation.admin.display and health_wording:
    # readable, in the admin's time zone, and true of the recorded checks.
    readonly_fields_base = (
        "normalized_url", "health_shown", "health_changed_at_shown", "last_checked_at_shown",
        "last_outcome", "last_status_code", "next_check_at_shown", "consecutive_failures",
        "consecutive_blocked", "suggested_url", "created_by", "created_at_shown",
        "updated_at_shown",
    )  # fmt: skip
    fieldsets = [
        (None, {"fields": ["url", "normalized_url", "title", "description", "curator_note"]}),
        (
            "Classification",
            {"fields": ["kind", "difficulty", "topics", "cost", "duration_minutes", "language"]},
        ),
        ("Source", {"fields": ["author", "publisher"]}),
        (
            "Publication",
            {
                "fields": [
                    "status",
                    "featured",
                    "created_by",
                    "created_at_shown",
                    "updated_at_shown",
                ]
            },
        ),
        (
            "Link health",
            {
                "fields": [
                    "health_shown",
                    "health_changed_at_shown",
                    "last_checked_at_shown",
                    "last_outcome",
                    "last_status_code",
                    "next_check_at_shown",
                    "consecutive_failures",
                    "consecutive_blocked",
                    "suggested_url",
                ]
            },
        ),
    ]
    actions = [
        "publish", "archive", "make_beginner", "make_intermediate", "make_advanced",
        "check_links_now", "refresh_metadata",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return (
            *self.readonly_fields_base,
            *self.health_readonly_fields(request, obj),
            *self.archive_readonly_fields(request, obj),
            *self.metadata_readonly_fields,
            *self.freshness_readonly_fields(request, obj),
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            health = list(self.health_readonly_fields(request, obj))
            # The archived copy belongs with the evidence: it is what to do about a dead link.
            health += self.archive_readonly_fields(request, obj)
            fieldsets.append(("Health evidence", {"fields": health}))
        if obj is not None and self.metadata_readonly_fields:
            fieldsets.append(("Page metadata", {"fields": list(self.metadata_readonly_fields)}))
        if obj is not None:
            fields = list(self.freshness_readonly_fields(request, obj))
            fieldsets.append(("Freshness", {"fields": fields}))
        return fieldsets

    health_changed_at_shown = time_field("health_changed_at", "health changed at")
    last_checked_at_shown = time_field("last_checked_at", "last checked")
    next_check_at_shown = time_field("next_check_at", "next check due")
    created_at_shown = time_field("created_at", "created at")
    updated_at_shown = time_field("updated_at", "updated at")

    def get_queryset(self, request):
        # has_checks lets the health label tell "never checked" from "checked, no verdict".
        checks = LinkCheck.objects.filter(resource=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .prefetch_related("topics")
            .annotate(has_checks=Exists(checks))
        )

    @admin.display(description="topics")
    def topic_list(self, resource: Resource) -> str:
        return ", ".join(t.name for t in resource.topics.all())

    def save_model(self, request, obj, form, change):
        # The form has validated and filled `obj`; the write itself is the services', so that
        # an added resource is queued for its first check and a changed URL is checked again.
        topics = form.cleaned_data.get("topics")
        if change:
            fields = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in services.RESOURCE_WRITABLE_FIELDS
            }
            stored = Resource.objects.get(pk=obj.pk)
            saved = services.update_resource(
                stored, topics=topics if "topics" in form.changed_data else None, **fields
            )
        else:
            fields = {
                name: form.cleaned_data[name]
                for name in form.fields
                if name in services.RESOURCE_WRITABLE_FIELDS
            }
            saved = services.create_resource(created_by=request.user, topics=topics or (), **fields)
        # The admin goes on with the object it passed in (log entry, redirect): the saved row.
        vars(obj).update(vars(saved))

    def save_related(self, request, form, formsets, change):
        # The services have set the topics: the form's own m2m save would write around them.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Publish selected resources", permissions=["change"])
    def publish(self, request, queryset):
        changed = services.set_resources_status(
            queryset.values_list("id", flat=True), status=PublicationStatus.PUBLISHED
        )
        self.message_user(request, f"Published {changed} resource(s).", messages.SUCCESS)

    @admin.action(description="Archive selected resources", permissions=["change"])
    def archive(self, request, queryset):
        changed = services.set_resources_status(
            queryset.values_list("id", flat=True), status=PublicationStatus.ARCHIVED
        )
        self.message_user(request, f"Archived {changed} resource(s).", messages.SUCCESS)

    def _set_difficulty(self, request, queryset, difficulty: Difficulty) -> None:
        changed = services.set_resources_difficulty(
            queryset.values_list("id", flat=True), difficulty=difficulty
        )
        self.message_user(
            request, f"Set {changed} resource(s) to {difficulty.label.lower()}.", messages.SUCCESS
        )

    @admin.action(description="Set difficulty: beginner", permissions=["change"])
    def make_beginner(self, request, queryset):
        self._set_difficulty(request, queryset, Difficulty.BEGINNER)

    @admin.action(description="Set difficulty: intermediate", permissions=["change"])
    def make_intermediate(self, request, queryset):
        self._set_difficulty(request, queryset, Difficulty.INTERMEDIATE)

    @admin.action(description="Set difficulty: advanced", permissions=["change"])
    def make_advanced(self, request, queryset):
        self._set_difficulty(request, queryset, Difficulty.ADVANCED)

    @admin.action(description="Check links now", permissions=["change"])
    def check_links_now(self, request, queryset):
        count = enqueue.enqueue_checks(list(queryset.values_list("id", flat=True)))
        self.message_user(
            request, f"Queued a link check for {count} resource(s).", messages.SUCCESS
        )

    @admin.action(description="Refresh metadata", permissions=["change"])
    def refresh_metadata(self, request, queryset):
        count = enqueue.enqueue_metadata_refresh(list(queryset.values_list("id", flat=True)))
        self.message_user(
            request, f"Queued a metadata refresh for {count} resource(s).", messages.SUCCESS
        )
