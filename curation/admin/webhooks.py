"""Webhook endpoints in the admin: register, send a test event, read the delivery log.

The secret is shown once, in the message after the endpoint is created, and never again: not
in the list, not on the change page. Writes go through curation.webhooks.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from curation.admin.buttons import object_button
from curation.admin.display import time_field, when
from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from curation.webhooks import events, selectors, sending
from curation.webhooks import services as webhook_services

EVENT_CHOICES = list(events.EVENTS.items())


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=MAX_URL_LENGTH, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="The events sent to this endpoint.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            sending.check_endpoint_url(url)
        except sending.RefusedURL as exc:
            raise forms.ValidationError(
                f"Deliveries to this address would be refused: {exc}. Private and internal "
                "addresses need an entry in WEBHOOK_ALLOWED_HOSTS."
            ) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "events_shown", "active", "state", "owner"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["state", "owner", "created_at_shown", "test_event", "delivery_log"]
    created_at_shown = time_field("created_at", "created")
    actions = ["send_test", "enable"]

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["url", "description", "events", "active"]})
        if obj is None:
            return [main]
        status = (
            "Deliveries",
            {"fields": ["state", "owner", "created_at_shown", "test_event", "delivery_log"]},
        )
        return [main, status]

    @admin.display(description="events")
    def events_shown(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events or []) or "—"

    @admin.display(description="state")
    def state(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.disabled_at is not None:
            return format_html(
                '<strong style="color:#ba2121">Disabled</strong> {}: {}',
                when(endpoint.disabled_at),
                endpoint.disabled_reason,
            )
        if not endpoint.active:
            return "Inactive"
        if endpoint.consecutive_failures:
            return f"Delivering ({endpoint.consecutive_failures} failed in a row)"
        return "Delivering"

    @admin.display(description="test")
    def test_event(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "—"
        return format_html(
            '<button type="submit" class="button" formaction="{}">Send test event</button> '
            "(a <code>webhook.test</code> event, delivered like any other)",
            reverse("admin:curation_webhookendpoint_send_test", args=[endpoint.pk]),
        )

    @admin.display(description="delivery log")
    def delivery_log(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "—"
        url = reverse("admin:curation_webhookdelivery_changelist")
        count = endpoint.deliveries.count()
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{} deliveries</a>', url, endpoint.pk, count
        )

    def changelist_view(self, request, extra_context=None):
        owner = None if request.user.is_superuser else request.user
        for endpoint in selectors.disabled_endpoints(owner):
            self.message_user(
                request,
                f"Webhook endpoint {endpoint.url} was disabled ({endpoint.disabled_reason}). "
                "Fix the receiver, then use “Re-enable” to deliver to it again.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        # The form has run the services' checks (URL guard, known events): this cannot fail.
        data = form.cleaned_data
        if change:
            stored = WebhookEndpoint.objects.get(pk=obj.pk)
            saved = webhook_services.update_endpoint(
                stored,
                url=data["url"],
                description=data["description"],
                events=data["events"],
                active=data["active"],
            )
        else:
            saved = webhook_services.create_endpoint(
                url=data["url"],
                description=data["description"],
                events=data["events"],
                active=data["active"],
                owner=request.user,
            )
        vars(obj).update(vars(saved))
        if not change:
            self.message_user(
                request,
                f"The signing secret of {saved.url} is {saved.secret} — copy it now: it will "
                "not be shown again. Receivers verify each delivery with it (Standard Webhooks).",
                messages.WARNING,
            )

    # --- the test button ---

    def get_urls(self):
        extra = [
            path(
                "<int:object_id>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="curation_webhookendpoint_send_test",
            )
        ]
        return extra + super().get_urls()

    def send_test_view(self, request: HttpRequest, object_id: int):
        return object_button(
            self, request, object_id, lambda endpoint: self._send_tests(request, [endpoint])
        )

    def _send_tests(self, request: HttpRequest, endpoints) -> None:
        for endpoint in endpoints:
            if endpoint.disabled_at is not None or not endpoint.active:
                self.message_user(
                    request,
                    f"{endpoint.url} is not delivering (inactive or disabled): no test sent.",
                    messages.ERROR,
                )
                continue
            delivery = webhook_services.send_test_event(endpoint)
            self.message_user(
                request,
                f"Test event {delivery.message_id} queued for {endpoint.url}.",
                messages.SUCCESS,
            )

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test(self, request, queryset):
        self._send_tests(request, list(queryset))

    @admin.action(description="Re-enable (deliver again)", permissions=["change"])
    def enable(self, request, queryset):
        for endpoint in queryset:
            webhook_services.enable_endpoint(endpoint)
        self.message_user(request, f"Re-enabled {queryset.count()} endpoint(s).", messages.SUCCESS)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "attempted_at_shown", "status_code", "duration_ms", "succeeded", "error"]
    readonly_fields = fields
    attempted_at_shown = time_field("attempted_at", "attempted")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, one row per event and endpoint, its attempts inside."""

    list_display = [
        "created_at_shown", "endpoint", "event", "message_id", "status", "attempts",
        "last_code", "last_duration", "last_error",
    ]  # fmt: skip
    list_filter = ["status", "event", "endpoint"]
    search_fields = ["message_id", "endpoint__url"]
    fields = [
        "endpoint", "event", "message_id", "status", "attempts", "created_at_shown",
        "next_attempt_at_shown", "delivered_at_shown", "last_error", "resource", "payload",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    created_at_shown = time_field("created_at", "created")
    next_attempt_at_shown = time_field("next_attempt_at", "next attempt")
    delivered_at_shown = time_field("delivered_at", "delivered")

    def get_queryset(self, request):
        last = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number", "-id")
        return (
            super()
            .get_queryset(request)
            .select_related("endpoint")
            .annotate(
                last_status_code=Subquery(last.values("status_code")[:1]),
                last_duration_ms=Subquery(last.values("duration_ms")[:1]),
            )
        )

    @admin.display(description="response")
    def last_code(self, delivery) -> str:
        return str(delivery.last_status_code) if delivery.last_status_code else "—"

    @admin.display(description="duration")
    def last_duration(self, delivery) -> str:
        ms = delivery.last_duration_ms
        return f"{ms} ms" if ms is not None else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
