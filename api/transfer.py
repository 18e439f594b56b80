"""Import over the API, for curators: POST a file, get the import's report as JSON.

The same service as the command and the admin (curation.transfer.importing): all or nothing
unless import_valid_rows, a dry run on request. 200 with the report when the file was
imported (or dry-run); 400 with the report when errors refused it, every problem by line.
A file larger than IMPORT_INLINE_MAX_BYTES is kept as an ImportJob and run by a worker:
202 with the job and its status URL, GET /api/v1/imports/<id>/ (its creator or staff) says
queued, running, done or failed, with the same report once it ran.
Included into api/urls.py as `urlpatterns += transfer_urlpatterns`.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import error_body
from api.permissions import AUTHENTICATION
from api.schema import ERROR_DESCRIPTIONS
from api.serializers import ErrorSerializer
from api.throttling import AnonThrottle, UserThrottle
from curation.transfer import jobs
from curation.transfer.formats import FORMATS
from curation.transfer.importing import ON_DUPLICATE
from curation.transfer.limits import FileRefused, LineSource, current_limits, read_limited
from curation.transfer.netscape import FOLDERS_AS


class CanImport(BasePermission):
    message = "Importing is for curators: the add resource permission is needed."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("curation.add_resource"))


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Markdown list, Netscape bookmarks, CSV or JSON.")
    format = serializers.ChoiceField(choices=["auto", *FORMATS], default="auto")
    collection = serializers.SlugField(
        required=False, help_text="Slug of the collection a list or bookmark file becomes."
    )
    folders = serializers.ChoiceField(choices=list(FOLDERS_AS), default="sections")
    on_duplicate = serializers.ChoiceField(choices=list(ON_DUPLICATE), default="skip")
    dry_run = serializers.BooleanField(default=False)
    import_valid_rows = serializers.BooleanField(default=False)
    with_history = serializers.BooleanField(
        default=False, help_text="JSON backup: restore the health history of the new resources."
    )


class ImportView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [CanImport]
    throttle_classes = [AnonThrottle, UserThrottle]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["imports"],
        summary="Import a file of resources (curators)",
        description=(
            "Checks the whole file first; with any error nothing is imported unless "
            "import_valid_rows. The report counts what was (or, on a dry run or refusal, "
            "would be) created, updated and skipped, and lists every problem by line."
        ),
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, "The import's report."),
            202: OpenApiResponse(
                OpenApiTypes.OBJECT,
                "A file over IMPORT_INLINE_MAX_BYTES: queued for a worker; the job, with its "
                "status_url (also the Location header).",
            ),
            **{
                int(code): OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[code])
                for code in ("400", "401", "403", "429")
            },
        },
    )
    def post(self, request):
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        given = form.validated_data
        upload = given["file"]
        options = jobs.job_options(
            format=given["format"],
            collection=given.get("collection"),
            folders_as=given["folders"],
            on_duplicate=given["on_duplicate"],
            dry_run=given["dry_run"],
            import_valid_rows=given["import_valid_rows"],
            with_history=given["with_history"],
        )
        try:
            if upload.size > current_limits().max_bytes:
                raise FileRefused(f"the file is larger than {current_limits().max_bytes:,} bytes")
            data = read_limited(upload.file)
            if len(data) > settings.IMPORT_INLINE_MAX_BYTES:
                # Refuse what cannot be read at all now, not in the job's report.
                for _line in LineSource.from_bytes(data):
                    pass
                return self._queued(request, data, upload.name, options)
            report = jobs.run_parsed(data, filename=upload.name, options=options, user=request.user)
        except FileRefused as exc:
            raise ValidationError({"file": [f"{exc}; nothing was imported"]}) from None
        if report.applied or report.dry_run:
            return Response(report.as_dict())
        body = error_body(
            f"{len(report.errors)} errors: nothing was imported",
            [
                {"field": "file", "code": "invalid_row", "message": str(problem)}
                for problem in report.errors
            ],
        )
        return Response({**body, "report": report.as_dict()}, status=status.HTTP_400_BAD_REQUEST)

    def _queued(self, request, data: bytes, name: str, options: dict) -> Response:
        job = jobs.queue_import(data, filename=name, options=options, user=request.user)
        where = request.build_absolute_uri(reverse("api:import-job", args=[job.pk]))
        return Response(
            {**jobs.job_as_dict(job), "status_url": where},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": where},
        )


class ImportJobView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [CanImport]
    throttle_classes = [AnonThrottle, UserThrottle]

    @extend_schema(
        tags=["imports"],
        summary="The status of a background import (its creator, or staff)",
        description=(
            "status is queued, running, done (imported, or a dry run) or failed (with error; "
            "when the file had errors, the report lists them). report is the import's "
            "report, as POST /imports/ answers it, once the job ran."
        ),
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, "The job."),
            **{
                int(code): OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[code])
                for code in ("401", "403", "404", "429")
            },
        },
    )
    def get(self, request, job_id):
        job = jobs.job_for(job_id, user=request.user)
        if job is None:
            raise NotFound("No import job with that id is yours to see.")
        where = request.build_absolute_uri(reverse("api:import-job", args=[job.pk]))
        return Response({**jobs.job_as_dict(job), "status_url": where})


transfer_urlpatterns = [
    path("imports/", ImportView.as_view(), name="imports"),
    path("imports/<uuid:job_id>/", ImportJobView.as_view(), name="import-job"),
]
