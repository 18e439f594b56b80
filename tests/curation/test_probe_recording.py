"""The probe's evidence reaches the catalogue: the worker's path records it with the check."""

from __future__ import annotations

import pytest

from curation.checker.outcomes import CheckResult, Outcome
from curation.health.checking import check_and_record
from curation.health.recording import CheckEntry, record_checks
from curation.models import LinkCheck
from tests.checker.conftest import make_server  # noqa: F401 - fixtures
from tests.checker.test_probe import Site
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connections")]


@pytest.fixture
def soft_site(make_server, settings):  # noqa: F811 - pytest fixture injection
    server = make_server()
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset({server.host_port})
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    settings.LINKCHECK_TIMEOUT = 5
    # The in-process probe cache: this test is not about Redis.
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_IS_REDIS = False
    return Site(server, "soft")


def test_a_worker_check_records_the_probe_evidence(soft_site):
    resource = ResourceFactory(url=soft_site.server.url("/courses/retired-course"))

    recorded = check_and_record([(resource.pk, "token-1")])

    check = LinkCheck.objects.get(resource=resource)
    assert recorded == 1
    assert (check.outcome, check.rule) == ("soft_404", "soft404-probe-same-page")
    assert check.evidence.startswith("this site answers every unknown address with the same page")
    assert "probed /courses/" in check.evidence


def test_a_check_without_evidence_records_an_empty_one():
    resource = ResourceFactory()
    result = CheckResult(url=resource.url, outcome=Outcome.OK, status_code=200, rule="status-200")

    record_checks([CheckEntry(resource.pk, result)])

    assert LinkCheck.objects.get(resource=resource).evidence == ""


def test_the_resource_page_shows_the_probes_evidence_to_a_curator(soft_site, admin_client):
    resource = ResourceFactory(url=soft_site.server.url("/courses/retired-course"))
    check_and_record([(resource.pk, "token-1")])

    page = admin_client.get(f"/admin/curation/resource/{resource.pk}/change/").content.decode()

    assert "Site evidence of the last check: this site answers every unknown address" in page
