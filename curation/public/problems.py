"""Report a problem: the form on every item of the site and the anonymous API endpoint.

Both count against one per-client throttle in the shared cache and end in the same service,
`curation.feedback.services.report_problem`. A flood from one client is stopped at its own
throttle (and each client counts once per resource per day), so it changes nothing for
anybody else.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from api.jsonld import SCHEMA_CONTEXT
from api.schema import ApiAutoSchema
from api.writes import WriteSerializer
from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.feedback import services
from curation.models import ProblemKind
from curation.public import views

# A learner reports a handful of problems an hour at most; more is a script.
REPORTS_PER_CLIENT = "10/hour"
THANKS = "Thank you: a curator will look at it."
HONEYPOT = "website"


class ProblemThrottle(SimpleRateThrottle):
    """Per client address, whether it comes through the form or the API."""

    scope = "problem_reports"
    rate = REPORTS_PER_CLIENT

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ProblemForm(forms.Form):
    kind = forms.ChoiceField(choices=ProblemKind.choices, widget=forms.RadioSelect)
    new_url = forms.URLField(
        required=False, max_length=MAX_URL_LENGTH, assume_scheme="https", label="New address"
    )
    comment = forms.CharField(
        required=False, max_length=services.MAX_COMMENT_LENGTH, widget=forms.Textarea
    )
    # Hidden from people by the stylesheet; a bot that fills every field fills this one.
    website = forms.CharField(required=False)


def _back(request: HttpRequest, pk: int) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("public:resource", args=[pk])


def _answer(request: HttpRequest, message: str, code: int) -> HttpResponse:
    document = {"@context": SCHEMA_CONTEXT, "@type": "WebPage", "name": "Report a problem"}
    response = views.page(request, "public/report_result.html", {"message": message}, document)
    response.status_code = code
    return response


@require_POST
def report_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The form's POST (CSRF-protected by the middleware); back to the page with thanks."""
    throttle = ProblemThrottle()
    if not throttle.allow_request(request, None):
        return _answer(request, "Too many reports from here: please try again later.", 429)
    form = ProblemForm(request.POST)
    if not form.is_valid():
        return _answer(request, f"The report could not be read: {form.errors.as_text()}", 400)
    if form.cleaned_data[HONEYPOT]:
        messages.success(request, THANKS)  # a bot learns nothing from the answer
        return redirect(_back(request, pk))
    try:
        services.report_problem(
            pk,
            kind=form.cleaned_data["kind"],
            comment=form.cleaned_data["comment"],
            new_url=form.cleaned_data["new_url"],
            client=services.client_key(throttle.get_ident(request)),
        )
    except services.NotReportable:
        raise Http404("No such resource.") from None
    except services.DailyCapReached:
        messages.info(request, "This has been reported many times today: a curator is on it.")
        return redirect(_back(request, pk))
    messages.success(request, THANKS)
    return redirect(_back(request, pk))


class ProblemReportSerializer(WriteSerializer):
    # "problem", not "kind": the schema names enums by field, and "kind" is the resource's.
    problem = serializers.ChoiceField(choices=ProblemKind.choices)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_COMMENT_LENGTH
    )
    new_url = serializers.URLField(required=False, allow_blank=True, max_length=MAX_URL_LENGTH)


class ProblemReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    problem = serializers.ChoiceField(choices=ProblemKind.choices)
    status = serializers.CharField()
    check_queued = serializers.BooleanField(
        help_text="Whether this report queued a re-check (one per resource per hour)."
    )


class ProblemReportAPIView(APIView):
    """Anonymous: no account, no session (so no CSRF), throttled per client."""

    schema = ApiAutoSchema()  # documents the API's error answers, as on every endpoint
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ProblemThrottle]
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Report a problem with a resource (anyone, throttled)",
        request=ProblemReportSerializer,
        responses={202: ProblemReceiptSerializer},
    )
    def post(self, request, pk: int) -> Response:
        incoming = ProblemReportSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        client = services.client_key(ProblemThrottle().get_ident(request))
        try:
            report = services.report_problem(
                pk, kind=fields.pop("problem"), client=client, **fields
            )
        except services.NotReportable:
            raise NotFound("No resource with this id.") from None
        except services.DailyCapReached:
            raise Throttled(detail="This resource has had its reports for today.") from None
        receipt = {
            "id": report.pk,
            "problem": report.kind,
            "status": report.status,
            "check_queued": report.check_queued_at is not None,
        }
        return Response(receipt, status=status.HTTP_202_ACCEPTED)
