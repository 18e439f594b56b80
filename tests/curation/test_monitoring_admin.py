"""The health parts of the admin, as a logged-in curator sees them."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from curation.checker.outcomes import Hop
from curation.health import recording
from curation.models import CheckerIncident, HealthState, HealthTransition, Resource
from tests.factories import ResourceFactory
from tests.integration.support import result


def moved_resource() -> Resource:
    resource = ResourceFactory(url="https://old.example/page")
    hops = [Hop("https://old.example/page", 301), Hop("https://new.example/page", 200)]
    for _ in range(2):
        recording.record_check(
            resource.pk,
            result=result(
                "redirected", url=resource.url, final_url="https://new.example/page", redirects=hops
            ),
            source="scheduled",
        )
    return Resource.objects.get(pk=resource.pk)


def test_the_resource_page_shows_health_evidence(admin_client):
    resource = moved_resource()
    page = admin_client.get(reverse("admin:curation_resource_change", args=[resource.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "redirect-confirmed" in html
    assert "https://old.example/page → 301" in html
    assert "Apply the new address" in html
    assert reverse("admin:curation_resource_snooze", args=[resource.pk]) in html


def test_apply_moved_address_in_one_click(admin_client):
    resource = moved_resource()
    response = admin_client.post(reverse("admin:curation_resource_apply_moved", args=[resource.pk]))
    resource.refresh_from_db()
    assert response.status_code == 302
    assert resource.url == "https://new.example/page"
    assert HealthTransition.objects.filter(
        resource=resource, reason__contains="old.example"
    ).exists()


def test_snooze_button_marks_a_broken_link_not_broken(admin_client):
    resource = ResourceFactory(health=HealthState.BROKEN)
    admin_client.post(
        reverse("admin:curation_resource_snooze", args=[resource.pk]), {"snooze_days": "30"}
    )
    resource.refresh_from_db()
    assert resource.health == HealthState.SUSPECT
    assert resource.snoozed_until > timezone.now()


def test_snooze_refuses_an_unlisted_period(admin_client):
    resource = ResourceFactory(health=HealthState.BROKEN)
    admin_client.post(
        reverse("admin:curation_resource_snooze", args=[resource.pk]), {"snooze_days": "9999"}
    )
    resource.refresh_from_db()
    assert resource.snoozed_until is None


def test_snooze_action_on_the_changelist(admin_client):
    resources = ResourceFactory.create_batch(2, health=HealthState.BROKEN)
    admin_client.post(
        reverse("admin:curation_resource_changelist"),
        {"action": "snooze_7_days", "_selected_action": [r.pk for r in resources]},
    )
    assert set(Resource.objects.values_list("health", flat=True)) == {HealthState.SUSPECT}


def test_health_filter_and_open_incident_banner(admin_client):
    ResourceFactory(title="Dead one", health=HealthState.BROKEN)
    ResourceFactory(title="Fine one", health=HealthState.HEALTHY)
    CheckerIncident.objects.create(started_at=timezone.now(), reason="6 of 6 hosts failed")
    page = admin_client.get(reverse("admin:curation_resource_changelist") + "?health__exact=broken")
    html = page.content.decode()
    assert "Dead one" in html and "Fine one" not in html
    assert "The checker lost the network" in html


def test_incidents_and_transitions_are_listed_read_only(admin_client):
    CheckerIncident.objects.create(started_at=timezone.now(), reason="canaries down")
    moved_resource()
    incidents = admin_client.get(reverse("admin:curation_checkerincident_changelist"))
    transitions = admin_client.get(reverse("admin:curation_healthtransition_changelist"))
    assert "canaries down" in incidents.content.decode()
    assert "redirect-confirmed" in transitions.content.decode()
    assert admin_client.get(reverse("admin:curation_healthtransition_add")).status_code == 403
