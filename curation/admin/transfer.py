"""Import in the admin: upload a file, preview what it would do, then confirm.

The preview is a dry run of the one import service (everything checked, nothing kept); the
uploaded bytes wait in an ImportJob row (status "preview", curation.transfer.jobs) until they
are confirmed, so the confirmed import reads exactly the previewed bytes on whichever web
process the confirmation reaches. A preview is its uploader's alone and expires after
IMPORT_PREVIEW_TTL_MINUTES. Importing needs the add permission on resources. Registered when
curation.admin imports this module (its URL is added in front of the admin site's own).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from curation.transfer import jobs
from curation.transfer.formats import FORMATS
from curation.transfer.importing import ON_DUPLICATE
from curation.transfer.limits import FileRefused, current_limits, read_limited
from curation.transfer.netscape import FOLDERS_AS

IMPORT_PERMISSION = "curation.add_resource"


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
    url = reverse("admin:curation_import")
    try:
        job, report = jobs.confirm_preview(request.POST.get("job"), user=request.user)
    except (jobs.PreviewExpired, ValidationError):
        messages.error(request, "That preview has expired: upload the file again.")
        return HttpResponseRedirect(url)
    if report is not None and report.applied:
        messages.success(request, f"{job.filename}: {report.summary()}")
    else:
        summary = report.summary() if report is not None else job.error
        messages.error(request, f"{job.filename}: nothing was imported; {summary}")
    return HttpResponseRedirect(url)


def _with_import_url(original):
    def get_urls():
        view = admin.site.admin_view(import_view)
        return [path("curation/import/", view, name="curation_import"), *original()]

    return get_urls


admin.site.get_urls = _with_import_url(admin.site.get_urls)
