"""Link health: every check, every state change, the checker's own incidents and the reports."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.models.catalog import Resource
from curation.models.choices import CheckSource, HealthState, ReportStatus


class LinkCheck(models.Model):
    """One check of a resource's URL, as the checker engine reported it."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(db_index=True)
    url = models.URLField(max_length=MAX_URL_LENGTH, blank=True)
    outcome = models.CharField(max_length=20)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.TextField(blank=True)
    redirect_chain = models.JSONField(default=list, blank=True)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    rule = models.CharField(max_length=60, blank=True)
    # The checker's reason in words, when it has more than a rule name to give (the
    # random-sibling probe: "this site answers every unknown address with the same page").
    evidence = models.TextField(blank=True)
    source = models.CharField(
        max_length=10, choices=CheckSource.choices, default=CheckSource.SCHEDULED
    )
    # The dispatch that asked for this check: a redelivered task carries the same token,
    # so its duplicate result is recognised and not counted twice.
    dispatch_token = models.CharField(max_length=64, blank=True)
    # False when the check ran while the checker itself was offline: kept as evidence,
    # but it changed no health state.
    counted = models.BooleanField(default=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["resource", "-checked_at"], name="check_resource_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "dispatch_token"],
                condition=~Q(dispatch_token=""),
                name="check_unique_dispatch",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.checked_at:%Y-%m-%d %H:%M}"


class HealthTransition(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=15, choices=HealthState.choices)
    to_state = models.CharField(max_length=15, choices=HealthState.choices)
    at = models.DateTimeField(db_index=True)
    link_check = models.ForeignKey(
        LinkCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["to_state", "at"], name="transition_state_time")]

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state}"


class CheckerIncident(models.Model):
    """A time the checker itself lost the network: its checks changed no health state."""

    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)
    checks_discarded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Checker offline since {self.started_at:%Y-%m-%d %H:%M}: {self.reason}"


class LinkReport(models.Model):
    """A stored link-health report for one period; one row per period, claimed exactly once."""

    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.CLAIMED
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_recipients = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_end"]
        constraints = [
            models.UniqueConstraint(fields=["period_start", "period_end"], name="report_period")
        ]

    def __str__(self) -> str:
        return f"Link report {self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"
