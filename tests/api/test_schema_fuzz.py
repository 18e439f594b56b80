"""Schemathesis over the published schema, inside the suite: no 5xx, responses conform to
the schema, authentication enforced. Example counts are modest so the file runs in under a
minute; an outside fuzzer run goes deeper."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

MAX_EXAMPLES = 8
# Everything but positive_data_acceptance: a schema-valid reference to something that does
# not exist (an unknown topic slug in `prerequisites`) is a 400 naming the field, by design.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
]


def _load_schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


# Loaded at import: schemathesis' fixture-based loader does not work with pytest 9.
# The link reports (api/reports.py) belong to the reports work and are fuzzed there: today a
# non-numeric /reports/{id}/ gets Django's HTML 404 (reported to the lead).
schema = _load_schema().exclude(path_regex="/reports/")


@pytest.fixture(autouse=True)
def _in_process_app(db, settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/minute", "user": "100000/minute"}
    settings.REST_FRAMEWORK = rest
    # The raw WSGI app closes the database connection after each request, as in production;
    # Django's test client turns that off, and so must we, or the test's transaction dies.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db):
    parent = TopicFactory(name="Maths")
    topic = TopicFactory(name="Algebra", parent=parent)
    topic.prerequisites.set([TopicFactory(name="Arithmetic")])
    section = SectionFactory(collection=CollectionFactory(slug="starter"))
    for n in range(5):
        ItemFactory(section=section, resource=ResourceFactory(topics=[topic], duration_minutes=n))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)  # fmt: skip
def test_anonymous_clients_get_no_server_error_and_conforming_answers(case, seeded):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)  # fmt: skip
def test_curators_get_no_server_error_and_conforming_answers(case, seeded, curator_token):
    case.call_and_validate(headers={"Authorization": f"Token {curator_token}"}, checks=CHECKS)
