"""Collections in the admin: sections and items edited on one page, saved by save_collection."""

from __future__ import annotations

from typing import Any

import nested_admin
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.html import format_html, format_html_join
from nested_admin.formsets import NestedInlineFormSet

from curation.admin.display import time_field
from curation.admin.health_wording import health_label
from curation.catalog import services
from curation.models import Collection, CollectionItem, CollectionSection


class CollectionItemFormSet(NestedInlineFormSet):
    def clean(self) -> None:
        super().clean()
        # The service refuses these too; here the curator sees the message beside the row.
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("resource") is None or data.get("DELETE"):
                continue
            try:
                services.validate_collection_item(CollectionItem(resource=data["resource"]))
            except ValidationError as exc:
                form.add_error("resource", exc.message_dict["resource"])


def _live_forms(formset) -> list:
    """The formset's rows that stay, in the order the curator dragged them into."""
    forms = [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
    ]
    return sorted(forms, key=lambda form: form.cleaned_data.get("position") or 0)


def outline_from_formsets(formsets) -> list[dict[str, Any]]:
    """The sections and items the page submitted, in save_collection's shape."""
    sections = next(f for f in formsets if f.model is CollectionSection)
    outline = []
    for section_form in _live_forms(sections):
        items = [
            {
                "resource": form.cleaned_data["resource"],
                "note": form.cleaned_data.get("note", ""),
                "required": form.cleaned_data.get("required", True),
            }
            for items_formset in getattr(section_form, "nested_formsets", ())
            for form in _live_forms(items_formset)
            if form.cleaned_data.get("resource") is not None
        ]
        outline.append(
            {
                "title": section_form.cleaned_data["title"],
                "intro": section_form.cleaned_data.get("intro", ""),
                "items": items,
            }
        )
    return outline


class CollectionItemInline(nested_admin.NestedTabularInline):
    model = CollectionItem
    formset = CollectionItemFormSet
    extra = 0
    fields = ["resource", "note", "required", "health", "position"]
    readonly_fields = ["health"]
    autocomplete_fields = ["resource"]
    sortable_field_name = "position"

    @admin.display(description="link health")
    def health(self, item: CollectionItem) -> str:
        if not item.resource_id:
            return "—"
        return health_label(item.resource, has_checks=item.resource.checks.exists())


class CollectionSectionInline(nested_admin.NestedStackedInline):
    model = CollectionSection
    extra = 0
    fields = ["title", "intro", "position"]
    sortable_field_name = "position"
    inlines = [CollectionItemInline]


@admin.register(Collection)
class CollectionAdmin(nested_admin.NestedModelAdmin):
    list_display = ["title", "status", "section_count", "item_count", "updated_at_shown"]
    updated_at_shown = time_field("updated_at", "updated at")
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
        "review_period_days",
        "intro",
        "outline",
    ]
    readonly_fields = ["outline"]
    inlines = [CollectionSectionInline]

    def save_model(self, request, obj, form, change):
        # Saved with its outline in save_related, where the inlines are known: one call.
        pass

    def save_related(self, request, form, formsets, change):
        changed = not change or any(formset.has_changed() for formset in formsets)
        sections = outline_from_formsets(formsets) if changed and formsets else None
        services.save_collection(form.instance, sections=sections)
        for formset in formsets:
            # The admin's change message reads what the formsets saved; the service did it.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

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
