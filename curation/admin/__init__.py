"""The curators' workbench: one module per capability, each registering its own pages.

Every change made here goes through the same service functions as the API and the commands.
"""

from __future__ import annotations

from django.contrib import admin

from curation.admin import (
    collections,
    feedback,
    health,
    metadata,
    reports,
    resources,
    topics,
    transfer,
    webhooks,
)

admin.site.site_header = "Syllabus curation"
admin.site.site_title = "Syllabus"
admin.site.index_title = "Curators' workbench"

__all__ = [
    "collections",
    "feedback",
    "health",
    "metadata",
    "reports",
    "resources",
    "topics",
    "transfer",
    "webhooks",
]
