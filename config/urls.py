from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from curation.public.problems import ProblemReportAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("_nested_admin/", include("nested_admin.urls")),
    # Learners' problem reports: anonymous and throttled, beside the API (curation/public).
    path("api/v1/resources/<int:pk>/problems/", ProblemReportAPIView.as_view(), name="problems"),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    # The learners' site at /: last, so that it never shadows the API or the admin.
    path("", include("curation.public.urls")),
]

handler404 = "api.exceptions.api_not_found"
