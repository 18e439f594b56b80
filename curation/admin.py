"""The curators' workbench."""

from __future__ import annotations

import threading

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from curation import (
    admin_reports,  # noqa: F401  (registers the link-report pages)
    services,
)
from curation.admin_health import HealthAdminMixin
from curation.admin_metadata import MetadataAdminMixin, MetadataSuggestionInline
from curation.models import (
    Collection,
    CollectionItem,
    CollectionSection,
    Difficulty,
    LinkCheck,
    PublicationStatus,
    Resource,
    Topic,
)
from curation.topics import parent_cycle_error, prerequisite_cycle_error
from curation.urlnorm import MAX_URL_LENGTH, InvalidURL, normalize_url

admin.site.site_header = "Syllabus curation"
admin.site.site_title = "Syllabus"
admin.site.index_title = "Curators' workbench"

_changelist_state = threading.local()


# --- Topics ----------------------------------------------------------------------------------


class TopicAdminForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["name", "slug", "description", "parent", "prerequisites"]

    def clean(self):
        cleaned = super().clean()
        error = parent_cycle_error(self.instance, cleaned.get("parent"))
        if error:
            self.add_error("parent", error)
        prerequisites = cleaned.get("prerequisites")
        if prerequisites is not None:
            error = prerequisite_cycle_error(self.instance, prerequisites)
            if error:
                self.add_error("prerequisites", error)
        return cleaned


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicAdminForm
    list_display = ["tree_name", "slug", "resource_count", "prerequisite_list"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    filter_horizontal = ["prerequisites"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(num_resources=Count("resources", distinct=True))
            .prefetch_related("prerequisites")
        )

    @admin.display(description="topic (path in the tree)", ordering="name")
    def tree_name(self, topic: Topic) -> str:
        nodes = getattr(_changelist_state, "topics", None) or {}
        names, node, seen = [topic.name], topic.parent_id, {topic.pk}
        while node is not None and node not in seen and node in nodes:
            seen.add(node)
            parent_id, name = nodes[node]
            names.append(name)
            node = parent_id
        return " › ".join(reversed(names))

    def changelist_view(self, request, extra_context=None):
        # One query for every topic's path, instead of walking parents row by row; kept per
        # thread because one ModelAdmin instance serves every request.
        _changelist_state.topics = {
            pk: (parent_id, name)
            for pk, parent_id, name in Topic.objects.values_list("id", "parent_id", "name")
        }
        try:
            return super().changelist_view(request, extra_context)
        finally:
            _changelist_state.topics = None

    @admin.display(description="resources", ordering="num_resources")
    def resource_count(self, topic: Topic) -> int:
        return topic.num_resources

    @admin.display(description="prerequisites")
    def prerequisite_list(self, topic: Topic) -> str:
        return ", ".join(p.name for p in topic.prerequisites.all())


# --- Resources ---------------------------------------------------------------------------------


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
            normalized = normalize_url(url)
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
        self.instance.normalized_url = normalized
        return url


class LinkCheckInline(admin.TabularInline):
    model = LinkCheck
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-checked_at", "-id"]
    fields = ["checked_at", "outcome", "status_code", "rule", "final_url", "elapsed_ms", "source"]
    readonly_fields = fields
    verbose_name_plural = "Check history (newest first)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-checked_at", "-id")


@admin.register(Resource)
class ResourceAdmin(HealthAdminMixin, MetadataAdminMixin, admin.ModelAdmin):
    form = ResourceAdminForm
    list_display = [
        "title", "kind", "difficulty", "topic_list", "health", "last_checked_at", "status",
        "featured",
    ]  # fmt: skip
    list_filter = ["kind", "difficulty", "topics", "status", "health", "featured", "cost"]
    search_fields = ["title", "url", "curator_note", "description", "author"]
    autocomplete_fields = ["topics"]
    list_select_related = []
    date_hierarchy = "created_at"
    inlines = [MetadataSuggestionInline, LinkCheckInline]
    readonly_fields_base = (
        "normalized_url", "health", "health_changed_at", "last_checked_at", "last_outcome",
        "last_status_code", "next_check_at", "consecutive_failures", "suggested_url",
        "created_by", "created_at", "updated_at",
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
            {"fields": ["status", "featured", "created_by", "created_at", "updated_at"]},
        ),
        (
            "Link health",
            {
                "fields": [
                    "health",
                    "health_changed_at",
                    "last_checked_at",
                    "last_outcome",
                    "last_status_code",
                    "next_check_at",
                    "consecutive_failures",
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
            *self.health_readonly_fields,
            *self.metadata_readonly_fields,
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and self.health_readonly_fields:
            fieldsets.append(("Health evidence", {"fields": list(self.health_readonly_fields)}))
        if obj is not None and self.metadata_readonly_fields:
            fieldsets.append(("Page metadata", {"fields": list(self.metadata_readonly_fields)}))
        return fieldsets

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    @admin.display(description="topics")
    def topic_list(self, resource: Resource) -> str:
        return ", ".join(t.name for t in resource.topics.all())

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        obj.normalized_url = normalize_url(obj.url)
        super().save_model(request, obj, form, change)

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
        from curation import tasks

        count = tasks.enqueue_checks(list(queryset.values_list("id", flat=True)))
        self.message_user(
            request, f"Queued a link check for {count} resource(s).", messages.SUCCESS
        )

    @admin.action(description="Refresh metadata", permissions=["change"])
    def refresh_metadata(self, request, queryset):
        from curation import tasks

        count = tasks.enqueue_metadata_refresh(list(queryset.values_list("id", flat=True)))
        self.message_user(
            request, f"Queued a metadata refresh for {count} resource(s).", messages.SUCCESS
        )


# --- Collections --------------------------------------------------------------------------------


class CollectionItemInline(nested_admin.NestedTabularInline):
    model = CollectionItem
    extra = 0
    fields = ["resource", "note", "required", "health", "position"]
    readonly_fields = ["health"]
    autocomplete_fields = ["resource"]
    sortable_field_name = "position"

    @admin.display(description="link health")
    def health(self, item: CollectionItem) -> str:
        return item.resource.get_health_display() if item.resource_id else "—"


class CollectionSectionInline(nested_admin.NestedStackedInline):
    model = CollectionSection
    extra = 0
    fields = ["title", "intro", "position"]
    sortable_field_name = "position"
    inlines = [CollectionItemInline]


@admin.register(Collection)
class CollectionAdmin(nested_admin.NestedModelAdmin):
    list_display = ["title", "status", "section_count", "item_count", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "intro"]
    prepopulated_fields = {"slug": ["title"]}
    fields = [
        "title",
        "slug",
        "status",
        "author",
        "author_name",
        "published_on",
        "intro",
        "outline",
    ]
    readonly_fields = ["outline"]
    inlines = [CollectionSectionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_sections=Count("sections", distinct=True),
                num_items=Count("sections__items", distinct=True),
            )
        )

    @admin.display(description="sections", ordering="num_sections")
    def section_count(self, collection: Collection) -> int:
        return collection.num_sections

    @admin.display(description="items", ordering="num_items")
    def item_count(self, collection: Collection) -> int:
        return collection.num_items

    @admin.display(description="the list as a learner reads it")
    def outline(self, collection: Collection) -> str:
        if collection.pk is None:
            return "—"
        sections = collection.sections.prefetch_related("items__resource")
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li><strong>{}</strong><ol>{}</ol></li>",
                (
                    (
                        section.title,
                        format_html_join(
                            "",
                            "<li>{} <em>({})</em></li>",
                            (
                                (item.resource.title, item.resource.get_health_display())
                                for item in section.items.all()
                            ),
                        ),
                    )
                    for section in sections
                ),
            ),
        )
