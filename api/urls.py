from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from api import views
from api.reports import report_urlpatterns
from api.transfer import transfer_urlpatterns

app_name = "api"

router = SimpleRouter()
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("collections", views.CollectionViewSet, basename="collection")

urlpatterns = [
    path("recommendations/", views.RecommendationView.as_view(), name="recommendations"),
    *router.urls,
]
# Link-health reports for curators (api/reports.py, the reports work's own views).
urlpatterns += report_urlpatterns
# Imports for curators (api/transfer.py, the import and export work's own view).
urlpatterns += transfer_urlpatterns
