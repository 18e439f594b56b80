"""Archived copies in the admin: the copy on the resource page (in its health evidence), a
one-click "use the archived copy" button, and the read-only snapshot log.

Using a copy changes the resource's address, so the button needs change permission (a viewer
sees the copy without it); it goes through `curation.archive.services.use_archived_copy`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from curation.admin.buttons import object_button
from curation.admin.display import EMPTY, time_field, when
from curation.archive import services as archive
from curation.archive.selectors import best_snapshot
from curation.catalog.services import DuplicateResource
from curation.models import ArchivedSnapshot, Resource, SnapshotSource

OTHER_SNAPSHOTS = 5


def _snapshot_line(snapshot: ArchivedSnapshot) -> str:
    captured = (
        format_html("captured {}", when(snapshot.captured_at))
        if snapshot.captured_at
        else "capture time unknown"
    )
    how = SnapshotSource(snapshot.found_by).label if snapshot.found_by else "-"
    unverified = "" if snapshot.verified else " — unverified: the archive may hold nothing there"
    return format_html(
        '<a href="{0}" rel="noreferrer">{0}</a><br><small>{1}, {2}; found by {3}, '
        "looked up {4}{5}</small>",
        snapshot.url,
        snapshot.archive,
        captured,
        how,
        when(snapshot.looked_up_at),
        unverified,
    )


def _use_button(resource: Resource) -> str:
    return format_html(
        '<p><button type="submit" class="button" formaction="{}">Use the archived copy</button>'
        " (the resource then points at the copy; {} stays on record as its original address)</p>",
        reverse("admin:curation_resource_use_archived", args=[resource.pk]),
        resource.original_url or resource.url,
    )


def archived_copy_html(resource: Resource, *, offers: bool) -> str:
    if resource.pk is None:
        return EMPTY
    best = best_snapshot(resource.pk)
    if best is None:
        return "No archived copy looked up yet (one is looked up when the link starts failing)."
    parts = [format_html("<p>{}</p>", _snapshot_line(best))]
    if offers and best.url != resource.url:
        parts.append(_use_button(resource))
    elif best.url == resource.url:
        note = "<p>The resource points at this copy; originally {}.</p>"
        parts.append(format_html(note, resource.original_url))
    others = resource.snapshots.exclude(pk=best.pk)[:OTHER_SNAPSHOTS]
    if others:
        parts.append(
            format_html(
                "<details><summary>Earlier lookups</summary><ul>{}</ul></details>",
                format_html_join("", "<li>{}</li>", ((_snapshot_line(s),) for s in others)),
            )
        )
    return format_html_join("", "{}", ((p,) for p in parts))


class ArchiveAdminMixin:
    """Mixed into ResourceAdmin: the archived copy and the "use the archived copy" button."""

    def archive_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        if self.has_change_permission(request, obj):
            return ("original_url", "archived_copy")
        return ("original_url", "archived_copy_read_only")

    @admin.display(description="archived copy")
    def archived_copy(self, resource: Resource) -> str:
        return archived_copy_html(resource, offers=True)

    @admin.display(description="archived copy")
    def archived_copy_read_only(self, resource: Resource) -> str:
        return archived_copy_html(resource, offers=False)

    def get_urls(self):
        extra = [
            path(
                "<int:object_id>/archive/use/",
                self.admin_site.admin_view(self.use_archived_view),
                name="curation_resource_use_archived",
            )
        ]
        return extra + super().get_urls()

    def use_archived_view(self, request: HttpRequest, object_id: int):
        return object_button(
            self, request, object_id, lambda _: self._use_archived(request, [object_id])
        )

    def _use_archived(self, request: HttpRequest, ids) -> None:
        for pk in ids:
            try:
                resource = archive.use_archived_copy(pk)
            except (archive.ArchiveError, DuplicateResource) as exc:
                self.message_user(request, f"Resource #{pk}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"“{resource}” now points at its archived copy {resource.url} "
                    f"(originally {resource.original_url}).",
                    messages.SUCCESS,
                )


@admin.register(ArchivedSnapshot)
class ArchivedSnapshotAdmin(admin.ModelAdmin):
    list_display = ["resource", "url", "archive", "found_by", "verified", "captured_at_shown"]
    list_filter = ["found_by", "verified", "archive"]
    list_select_related = ["resource"]
    search_fields = ["resource__title", "resource__url", "url"]
    fields = [
        "resource", "url", "archive", "found_by", "verified", "captured_at_shown",
        "looked_up_at_shown", "transition",
    ]  # fmt: skip
    readonly_fields = fields

    captured_at_shown = time_field("captured_at", "captured at")
    looked_up_at_shown = time_field("looked_up_at", "looked up at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Snapshots are part of a resource's record: whoever may see resources sees them.
        return request.user.has_perm("curation.view_resource") or super().has_view_permission(
            request, obj
        )

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)
