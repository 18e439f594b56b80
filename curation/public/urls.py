"""The public site's addresses: pages, feeds (Atom, RSS, JSON Feed) and the OPML list."""

from __future__ import annotations

from django.urls import path

from curation.public import feeds, problems, views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("topics/<slug:slug>/", views.topic, name="topic"),
    path("collections/<slug:slug>/", views.collection, name="collection"),
    path("resources/<int:pk>/", views.resource, name="resource"),
    path("resources/<int:pk>/report/", problems.report_form, name="report"),
    path(
        "feeds/catalogue.<str:fmt>",
        feeds.feed,
        {"scope": "catalogue"},
        name="catalogue-feed",
    ),
    path(
        "topics/<slug:slug>/feed.<str:fmt>",
        feeds.feed,
        {"scope": "topic"},
        name="topic-feed",
    ),
    path(
        "collections/<slug:slug>/feed.<str:fmt>",
        feeds.feed,
        {"scope": "collection"},
        name="collection-feed",
    ),
    path("feeds/collections.opml", feeds.opml, name="opml"),
]
