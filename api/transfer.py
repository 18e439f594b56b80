"""Import over the API, for curators: POST a file, get the import's report as JSON.

The same service as the command and the admin (curation.transfer.importing): all or nothing
unless import_valid_rows, a dry run on request. 200 with the report when the file was
imported (or dry-run); 400 with the report when errors refused it, every problem by line.
Imports run within the request (up to the import limits); no background job yet.
Included into api/urls.py as `urlpatterns += transfer_urlpatterns`.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import error_body
from api.permissions import AUTHENTICATION
from api.schema import ERROR_DESCRIPTIONS
from api.serializers import ErrorSerializer
from api.throttling import AnonThrottle, UserThrottle
from curation.transfer.formats import FORMATS, parse_file
from curation.transfer.importing import ON_DUPLICATE, import_catalogue
from curation.transfer.limits import FileRefused, current_limits, read_limited
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
            **{
                int(code): OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[code])
                for code in ("400", "401", "403", "429")
            },
        },
    )
    def post(self, request):
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        options = form.validated_data
        upload = options["file"]
        try:
            if upload.size > current_limits().max_bytes:
                raise FileRefused(f"the file is larger than {current_limits().max_bytes:,} bytes")
            parsed = parse_file(
                read_limited(upload.file),
                name=upload.name,
                format=options["format"],
                collection=options.get("collection"),
                folders_as=options["folders"],
            )
        except FileRefused as exc:
            raise ValidationError({"file": [f"{exc}; nothing was imported"]}) from None
        report = import_catalogue(
            parsed,
            on_duplicate=options["on_duplicate"],
            dry_run=options["dry_run"],
            import_valid_rows=options["import_valid_rows"],
            user=request.user,
        )
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


transfer_urlpatterns = [path("imports/", ImportView.as_view(), name="imports")]
