"""Link-health pieces of the resource admin: evidence, snooze, apply a moved address,
checker incidents and the read-only transition log."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from curation.admin.buttons import object_button
from curation.admin.display import detail, plural, time_field, when, when_text
from curation.admin.health_wording import explanation, health_label
from curation.catalog.services import DuplicateResource
from curation.health.actions import MonitoringError, apply_suggested_url, snooze_resource
from curation.models import (
    CheckerIncident,
    HealthState,
    HealthTransition,
    LinkCheck,
    Resource,
)

EVIDENCE_CHECKS = 5
# Recorded reasons start with the rule's name ("failure-unconfirmed: ..."); a curator's
# snooze ("snoozed by ... until ...") does not, and is shown whole.
RULE_NAME = re.compile(r"([a-z]+(?:-[a-z]+)*):")
SNOOZE_CHOICES = (7, 30, 90)


def _snooze(modeladmin, request, queryset, days: int | None) -> None:
    until = timezone.now() + timedelta(days=days) if days else None
    count = 0
    for pk in queryset.values_list("pk", flat=True):
        snooze_resource(pk, until=until, by=request.user)
        count += 1
    if days:
        text = f"Marked {count} resource(s) not broken for {days} days."
    else:
        text = f"Lifted the snooze on {count} resource(s)."
    modeladmin.message_user(request, text, messages.SUCCESS)


def _state_line(resource: Resource) -> str:
    # The explanation is rebuilt from the evidence now; the last transition's own reason is
    # true only of the check that caused it, so only its rule and time are shown beside.
    transition = resource.transitions.order_by("-at", "-id").first()
    if transition is None:
        change = "no state change recorded yet"
    else:
        rule = RULE_NAME.match(transition.reason)
        change = format_html(
            "{} → {} {} ({})",
            HealthState(transition.from_state).label,
            HealthState(transition.to_state).label,
            when(transition.at),
            format_html("rule <code>{}</code>", rule[1]) if rule else transition.reason,
        )
    return format_html(
        "<p><strong>{}</strong></p><p>Last change: {}.</p>", explanation(resource), change
    )


def _streak_line(resource: Resource) -> str:
    since = (
        format_html(", the first {}", when(resource.first_failure_at))
        if resource.consecutive_failures
        else ""
    )
    return format_html(
        "<p>Failure streak: {} in a row{}; blocked streak: {} in a row; next check due {}.</p>",
        plural(resource.consecutive_failures, "failed check"),
        since,
        plural(resource.consecutive_blocked, "blocked check"),
        when(resource.next_check_at, empty="as soon as the dispatcher runs"),
    )


def _recent_checks(resource: Resource) -> list[str]:
    checks = list(resource.checks.order_by("-checked_at", "-id")[:EVIDENCE_CHECKS])
    if not checks:
        return []
    parts = [_checks_table(checks)]
    if checks[0].evidence:
        # What the soft-404 probe learnt about the site ("this site answers every unknown
        # address with the same page ..."): the reason a 200 was or was not called a soft 404.
        parts.append(format_html("<p>Site evidence of the last check: {}.</p>", checks[0].evidence))
    if checks[0].redirect_chain:
        parts.append(_redirect_chain(checks[0].redirect_chain))
    return parts


def _checks_table(checks: list[LinkCheck]) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
        (
            (
                when(c.checked_at),
                c.outcome,
                c.status_code or "—",
                c.rule,
                "yes" if c.counted else "no (checker offline or late duplicate)",
                c.error[:200],
            )
            for c in checks
        ),
    )
    return format_html(
        "<table><thead><tr><th>checked</th><th>outcome</th><th>status</th>"
        "<th>rule</th><th>counted</th><th>error</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def _redirect_chain(chain: list[dict]) -> str:
    return format_html(
        "<p>Redirect chain of the last check:</p><ol>{}</ol>",
        format_html_join("", "<li>{} → {}</li>", ((h["url"], h["status"]) for h in chain)),
    )


def _apply_moved_offer(resource: Resource) -> str:
    return format_html(
        '<p>Moved permanently to <a href="{0}" rel="noreferrer">{0}</a>. '
        '<button type="submit" class="button" formaction="{1}">'
        "Apply the new address</button> (the old one stays in the history)</p>",
        resource.suggested_url,
        reverse("admin:curation_resource_apply_moved", args=[resource.pk]),
    )


def _snooze_form(resource: Resource) -> str:
    options = format_html_join(
        "", '<option value="{0}">{0} days</option>', ((d,) for d in SNOOZE_CHOICES)
    )
    return format_html(
        '<p>Mark “not broken” for <select name="snooze_days">{}'
        '<option value="0">lift the snooze</option></select> '
        '<button type="submit" class="button" formaction="{}">Snooze</button></p>',
        options,
        reverse("admin:curation_resource_snooze", args=[resource.pk]),
    )


def _evidence(resource: Resource, *, offers: bool) -> str:
    if resource.pk is None:
        return "—"
    parts = [_state_line(resource), _streak_line(resource), *_recent_checks(resource)]
    if offers:
        if resource.health == HealthState.MOVED and resource.suggested_url:
            parts.append(_apply_moved_offer(resource))
        parts.append(_snooze_form(resource))
    return format_html_join("", "{}", ((p,) for p in parts))


class HealthAdminMixin:
    """Mixed into ResourceAdmin: health evidence on the page, snooze and apply-move actions.

    Snoozing and applying a moved address write the resource: both, as actions and as the
    buttons on the page, need change permission on it.
    """

    health_actions: tuple[str, ...] = (
        "snooze_7_days", "snooze_30_days", "lift_snooze", "apply_moved_address",
    )  # fmt: skip

    def health_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        """The health fields of the page; the buttons only for those who may use them."""
        if self.has_change_permission(request, obj):
            return ("snoozed_until_shown", "health_evidence")
        return ("snoozed_until_shown", "health_evidence_read_only")

    snoozed_until_shown = time_field("snoozed_until", "snoozed until")

    @admin.display(description="health", ordering="health")
    def health_shown(self, resource: Resource) -> str:
        # The list annotates has_checks (one EXISTS per page); a single page asks directly.
        has_checks = getattr(resource, "has_checks", None)
        if has_checks is None:
            has_checks = resource.pk is not None and resource.checks.exists()
        return health_label(resource, has_checks=has_checks)

    @admin.display(description="why this state")
    def health_evidence(self, resource: Resource) -> str:
        return _evidence(resource, offers=True)

    @admin.display(description="why this state")
    def health_evidence_read_only(self, resource: Resource) -> str:
        return _evidence(resource, offers=False)

    # --- one-click views (buttons on the change page) ---

    def get_urls(self):
        extra = [
            path(
                "<int:object_id>/health/apply-moved/",
                self.admin_site.admin_view(self.apply_moved_view),
                name="curation_resource_apply_moved",
            ),
            path(
                "<int:object_id>/health/snooze/",
                self.admin_site.admin_view(self.snooze_view),
                name="curation_resource_snooze",
            ),
        ]
        return extra + super().get_urls()

    def apply_moved_view(self, request: HttpRequest, object_id: int):
        return object_button(
            self, request, object_id, lambda _: self._apply_moved(request, [object_id])
        )

    def snooze_view(self, request: HttpRequest, object_id: int):
        return object_button(self, request, object_id, lambda _: self._snooze(request, object_id))

    def _snooze(self, request: HttpRequest, object_id: int) -> None:
        try:
            days = int(request.POST.get("snooze_days", "0"))
        except ValueError:
            days = -1
        if days not in (0, *SNOOZE_CHOICES):
            self.message_user(request, "Choose a snooze period from the list.", messages.ERROR)
        else:
            _snooze(self, request, Resource.objects.filter(pk=object_id), days or None)

    def _apply_moved(self, request: HttpRequest, ids) -> None:
        for pk in ids:
            try:
                resource = apply_suggested_url(pk, by=request.user)
            except (MonitoringError, DuplicateResource) as exc:
                self.message_user(request, f"Resource #{pk}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, f"“{resource}” now points at {resource.url}.", messages.SUCCESS
                )

    # --- actions ---

    def get_actions(self, request):
        actions = super().get_actions(request)
        extra = [self.get_action(name) for name in self.health_actions]
        for func, name, description in self._filter_actions_by_permissions(request, extra):
            actions[name] = (func, name, description)
        return actions

    @admin.action(description="Mark not broken for 7 days (snooze)", permissions=["change"])
    def snooze_7_days(self, request, queryset):
        _snooze(self, request, queryset, 7)

    @admin.action(description="Mark not broken for 30 days (snooze)", permissions=["change"])
    def snooze_30_days(self, request, queryset):
        _snooze(self, request, queryset, 30)

    @admin.action(description="Lift the snooze", permissions=["change"])
    def lift_snooze(self, request, queryset):
        _snooze(self, request, queryset, None)

    @admin.action(
        description="Apply the moved address (keep the old in history)", permissions=["change"]
    )
    def apply_moved_address(self, request, queryset):
        self._apply_moved(request, list(queryset.values_list("pk", flat=True)))

    def changelist_view(self, request, extra_context=None):
        incident = CheckerIncident.objects.filter(ended_at__isnull=True).first()
        if incident is not None:
            self.message_user(
                request,
                f"The checker lost the network at {when_text(incident.started_at)} "
                f"({incident.reason}); those checks changed no health state and will be retried.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CheckerIncident)
class CheckerIncidentAdmin(ReadOnlyAdmin):
    list_display = ["started_at_shown", "ended_at_shown", "reason", "checks_discarded"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    fields = ["started_at_shown", "ended_at_shown", "reason", "checks_discarded", "detail_shown"]
    readonly_fields = fields

    started_at_shown = time_field("started_at", "started at")
    ended_at_shown = time_field("ended_at", "ended at")

    @admin.display(description="detail")
    def detail_shown(self, incident: CheckerIncident) -> str:
        return detail(incident.detail)


@admin.register(HealthTransition)
class HealthTransitionAdmin(ReadOnlyAdmin):
    list_display = ["at_shown", "resource", "from_state", "to_state", "reason", "link_check"]
    list_filter = ["to_state", "from_state"]
    list_select_related = ["resource", "link_check"]
    search_fields = ["resource__title", "resource__url", "reason"]
    date_hierarchy = "at"
    fields = ["resource", "from_state", "to_state", "at_shown", "reason", "link_check"]
    readonly_fields = fields

    at_shown = time_field("at", "at")
