"""Import in the admin: upload a file, preview what it would do, confirm, follow the job.

The preview is a dry run of the one import service (everything checked, nothing kept); the
uploaded bytes wait in an ImportJob row (status "preview", curation.transfer.jobs) until they
are confirmed, so the confirmed import reads exactly the previewed bytes. Confirming queues
the job for a worker (an import never runs inside a web request, out of the task time
limit's reach) and opens the job's page, which the curator watches until it is done. A
preview is its uploader's alone and expires after IMPORT_PREVIEW_TTL_MINUTES. Importing, and
seeing one's import jobs, needs the add permission on resources; superusers see every job.
Registered when curation.admin imports this module (the import page's URL is added in front
of the admin site's own).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from curation.admin.display import EMPTY, detail, time_field
from curation.models import ImportJob, ImportJobStatus
from curation.transfer import jobs
from curation.transfer.formats import FORMATS
from curation.transfer.importing import ON_DUPLICATE
from curation.transfer.limits import FileRefused, current_limits, read_limited
from curation.transfer.netscape import FOLDERS_AS

IMPORT_PERMISSION = "curation.add_resource"
# Problems listed on a job's page; a report with more says how many are left out.
PROBLEMS_SHOWN = 1000
# A queued or running job's page reloads itself this often (seconds).
REFRESH_SECONDS = 5
WAITING = (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="Markdown list, bookmark file (HTML), CSV or JSON backup.")
    format = forms.ChoiceField(choices=[(f, f) for f in ("auto", *FORMATS)], initial="auto")
    collection = forms.SlugField(
        required=False, help_text="Slug of the collection a list or bookmark file becomes."
    )
    folders = forms.ChoiceField(
        choices=[(f, f) for f in FOLDERS_AS], initial="sections",
        help_text="Bookmark folders become the collection's sections, or topics.",
    )  # fmt: skip
    on_duplicate = forms.ChoiceField(choices=[(o, o) for o in ON_DUPLICATE], initial="skip")
    import_valid_rows = forms.BooleanField(
        required=False, help_text="Import the rows without errors even if others have some."
    )
    with_history = forms.BooleanField(
        required=False, help_text="JSON backup: restore the link-health history it holds."
    )


def _options(data: dict) -> dict:
    return jobs.job_options(
        format=data["format"],
        collection=data.get("collection") or None,
        folders_as=data["folders"],
        on_duplicate=data["on_duplicate"],
        import_valid_rows=data["import_valid_rows"],
        with_history=data["with_history"],
    )


def import_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Import resources"}
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > current_limits().max_bytes:
                raise FileRefused(f"the file is larger than {current_limits().max_bytes:,} bytes")
            job, report = jobs.preview_upload(
                read_limited(upload.file),
                filename=upload.name,
                options=_options(form.cleaned_data),
                user=request.user,
            )
        except FileRefused as exc:
            form.add_error("file", f"{upload.name}: {exc}; nothing was imported.")
        else:
            context.update(report=report, name=upload.name, can_confirm=job is not None, job=job)
    context["form"] = form
    return TemplateResponse(request, "admin/transfer/import.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    try:
        job = jobs.confirm_preview(request.POST.get("job"), user=request.user)
    except (jobs.PreviewExpired, ValidationError):
        messages.error(request, "That preview has expired: upload the file again.")
        return HttpResponseRedirect(reverse("admin:curation_import"))
    messages.success(
        request, f"{job.filename} is queued for import: this page shows when it is done."
    )
    return HttpResponseRedirect(reverse("admin:curation_importjob_change", args=[job.pk]))


def _counts(report: dict[str, Any]) -> str:
    """ "created: 16 resource, 1 collection; 3 errors" from a stored report."""
    if not report:
        return EMPTY
    parts = []
    for bucket in ("created", "updated", "skipped"):
        counts = report.get(bucket) or {}
        if counts:
            verb = bucket if report.get("applied") else f"would be {bucket}"
            listed = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
            parts.append(f"{verb}: {listed}")
    errors = report.get("errors", 0)
    parts.append(f"{errors} error{'' if errors == 1 else 's'}")
    return "; ".join(parts)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """The imports a curator started, read only: where each is, and its report by line.

    The uploaded file is never shown (nor read: the queryset defers it).
    """

    list_display = [
        "filename",
        "status",
        "created_by",
        "created_at_shown",
        "started_at_shown",
        "finished_at_shown",
        "counts",
        "error",
    ]
    list_filter = ["status"]
    search_fields = ["filename"]
    fields = [
        "filename",
        "status",
        "created_by",
        "created_at_shown",
        "started_at_shown",
        "finished_at_shown",
        "options_shown",
        "counts",
        "error",
        "problems",
    ]
    readonly_fields = fields
    change_form_template = "admin/curation/importjob/change_form.html"

    created_at_shown = time_field("created_at", "created")
    started_at_shown = time_field("started_at", "started")
    finished_at_shown = time_field("finished_at", "finished")

    def get_queryset(self, request: HttpRequest):
        return jobs.jobs_visible_to(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Whoever may import sees their own jobs (the queryset keeps them to their own).
        return request.user.has_perm(IMPORT_PERMISSION)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        waiting = job is not None and job.status in WAITING
        refresh = REFRESH_SECONDS if waiting else None
        extra_context = {**(extra_context or {}), "refresh_seconds": refresh}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="options")
    def options_shown(self, job: ImportJob):
        return detail(job.options)

    @admin.display(description="counts")
    def counts(self, job: ImportJob) -> str:
        if job.status in WAITING:
            return EMPTY  # a confirmed preview keeps the preview's report until it ends
        return _counts(job.report or {})

    @admin.display(description="problems, by line")
    def problems(self, job: ImportJob):
        if job.status in WAITING:
            return EMPTY
        problems = (job.report or {}).get("problems") or []
        if not problems:
            return EMPTY
        rows = format_html_join(
            "",
            '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    p.get("severity", ""),
                    "" if p.get("line") is None else p["line"],
                    "" if p.get("column") is None else p["column"],
                    p.get("severity", ""),
                    p.get("message", ""),
                )
                for p in problems[:PROBLEMS_SHOWN]
            ),
        )
        more = len(problems) - PROBLEMS_SHOWN
        return format_html(
            '<table id="import-problems"><thead><tr><th>Line</th><th>Column</th>'
            "<th>Severity</th><th>Problem</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            format_html("<p>… and {} more problems not shown.</p>", more) if more > 0 else "",
        )


def _with_import_url(original):
    def get_urls():
        view = admin.site.admin_view(import_view)
        return [path("curation/import/", view, name="curation_import"), *original()]

    return get_urls


admin.site.get_urls = _with_import_url(admin.site.get_urls)
