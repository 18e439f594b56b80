"""Import in the admin: upload a file, preview what it would do, then confirm.

The preview is a dry run of the one import service (everything checked, nothing kept); the
upload waits in VAR_DIR/imports under a random token held in the curator's session until
it is confirmed, so the confirmed import reads exactly the previewed bytes. Importing needs
the add permission on resources. Registered when curation.admin imports this module (its
URL is added in front of the admin site's own).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from curation.transfer.formats import FORMATS, parse_file
from curation.transfer.importing import ON_DUPLICATE, import_catalogue
from curation.transfer.limits import FileRefused, current_limits, read_limited
from curation.transfer.netscape import FOLDERS_AS

IMPORT_PERMISSION = "curation.add_resource"
SESSION_KEY = "curation_transfer_upload"
UPLOAD_DIR = "imports"


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


def _upload_dir() -> Path:
    folder = Path(settings.VAR_DIR) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _options(data: dict) -> dict:
    return {
        "format": data["format"],
        "collection": data.get("collection") or None,
        "folders_as": data["folders"],
    }


def _run(request: HttpRequest, data: bytes, name: str, options: dict, *, dry_run: bool):
    parsed = parse_file(data, name=name, **_options(options))
    return import_catalogue(
        parsed,
        on_duplicate=options["on_duplicate"],
        dry_run=dry_run,
        import_valid_rows=options["import_valid_rows"],
        user=request.user,
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
            data = read_limited(upload.file)
            report = _run(request, data, upload.name, form.cleaned_data, dry_run=True)
        except FileRefused as exc:
            form.add_error("file", f"{upload.name}: {exc}; nothing was imported.")
        else:
            token = secrets.token_hex(16)
            (_upload_dir() / token).write_bytes(data)
            options = {k: v for k, v in form.cleaned_data.items() if k != "file"}
            request.session[SESSION_KEY] = {"token": token, "name": upload.name, **options}
            confirmable = not report.errors or form.cleaned_data["import_valid_rows"]
            context.update(report=report, name=upload.name, can_confirm=confirmable)
    context["form"] = form
    return TemplateResponse(request, "admin/transfer/import.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    url = reverse("admin:curation_import")
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, "That preview has expired: upload the file again.")
        return HttpResponseRedirect(url)
    stored = _upload_dir() / pending["token"]
    try:
        data = stored.read_bytes()
    finally:
        stored.unlink(missing_ok=True)
    report = _run(request, data, pending["name"], pending, dry_run=False)
    if report.applied:
        messages.success(request, f"{pending['name']}: {report.summary()}")
    else:
        messages.error(request, f"{pending['name']}: nothing was imported; {report.summary()}")
    return HttpResponseRedirect(url)


def _with_import_url(original):
    def get_urls():
        view = admin.site.admin_view(import_view)
        return [path("curation/import/", view, name="curation_import"), *original()]

    return get_urls


admin.site.get_urls = _with_import_url(admin.site.get_urls)
