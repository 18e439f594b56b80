"""Archived copies of resources' pages, found in web archives when a link starts failing."""

from __future__ import annotations

from django.db import models

from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.models.catalog import Resource
from curation.models.health import HealthTransition


class SnapshotSource(models.TextChoices):
    TIMEGATE = "timegate", "Memento TimeGate"
    TIMEMAP = "timemap", "Memento TimeMap"
    AVAILABILITY = "availability", "Wayback availability API"
    # The archive could not be asked: a web/<timestamp>/<url> address that may hold nothing.
    CONSTRUCTED = "constructed", "Constructed address (unverified)"


class ArchivedSnapshot(models.Model):
    """The archived copy closest to before a resource started failing, and how it was found."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="snapshots")
    url = models.URLField(max_length=MAX_URL_LENGTH)
    captured_at = models.DateTimeField(null=True, blank=True)
    # The archive's name as configured (ARCHIVES), e.g. "Internet Archive".
    archive = models.CharField(max_length=100)
    found_by = models.CharField(max_length=15, choices=SnapshotSource.choices)
    verified = models.BooleanField(default=True)
    looked_up_at = models.DateTimeField(db_index=True)
    # The health change that asked for this lookup: one lookup per transition, not per check.
    transition = models.ForeignKey(
        HealthTransition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-looked_up_at", "-id"]
        indexes = [models.Index(fields=["resource", "-looked_up_at"], name="snapshot_resource")]

    def __str__(self) -> str:
        return self.url
