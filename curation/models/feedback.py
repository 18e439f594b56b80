"""What learners tell curators."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.models.catalog import Resource
from curation.models.choices import ProblemKind, ProblemStatus


class ProblemReport(models.Model):
    """A learner's "report a problem" about a resource: a reason for a curator to look, and
    for a broken or moved link a reason to check it again now; never evidence by itself."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="problem_reports")
    kind = models.CharField(max_length=10, choices=ProblemKind.choices)
    new_url = models.URLField(max_length=MAX_URL_LENGTH, blank=True)
    # Plain text, never rendered as HTML.
    comment = models.TextField(max_length=1000, blank=True)
    # A keyed hash of the client's address: repeats are recognised, no address is stored.
    client = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When this report queued a re-check; empty when one was already queued in the period.
    check_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["resource", "created_at"], name="problem_resource_time"),
            models.Index(fields=["status", "created_at"], name="problem_status_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.resource}"
