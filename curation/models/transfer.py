"""Imports that run in the background: the uploaded file, its options and its report."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ImportJobStatus(models.TextChoices):
    # Parsed and shown to the curator (the admin's preview), waiting for "confirm".
    PREVIEW = "preview", "Awaiting confirmation"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A large import handed to a worker. The file lives in the database, not on one
    machine's disk, so any worker can run it; it is cleared once the job ends."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(editable=False)
    options = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.filename or self.id} ({self.status})"
