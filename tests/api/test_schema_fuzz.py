"""Schemathesis over the published schema, inside the suite, the way an outside run fuzzes
it: as a curator (an anonymous client only reaches the writes' 401), with throttling off,
every operation, then chained through the links schemathesis infers (ids and slugs from a
list's answer into reads, changes and archiving). No 5xx, every answer conforms to the schema.

Example counts are bounded so that the file runs in well under a minute; an outside fuzzer
run goes deeper."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.factories import (
    CollectionFactory,
    ItemFactory,
    LinkReportFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

# Per operation; with the coverage phase's cases, the file runs in well under a minute.
MAX_EXAMPLES = 25
ANONYMOUS_EXAMPLES = 8  # an anonymous client mostly meets 401: fewer tell as much
STATEFUL_SCENARIOS = 40
STATEFUL_STEPS = 8
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
HEALTH_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                 HealthCheck.filter_too_much]  # fmt: skip


def _load_schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


# Loaded at import: schemathesis' fixture-based loader does not work with pytest 9.
schema = _load_schema()


@pytest.fixture(autouse=True)
def _in_process_app(db, settings):
    rest = dict(settings.REST_FRAMEWORK)
    # No rate, no throttling: a fuzzer's hundreds of requests must reach the views.
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": None, "user": None}
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
    LinkReportFactory()


@pytest.fixture
def curator_headers(curator_token):
    return {"Authorization": f"Token {curator_token}"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_curators_get_no_server_error_and_conforming_answers(case, seeded, curator_headers):
    case.call_and_validate(headers=curator_headers, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=ANONYMOUS_EXAMPLES, deadline=None, suppress_health_check=HEALTH_CHECKS)
def test_anonymous_clients_get_no_server_error_and_conforming_answers(case, seeded):
    case.call_and_validate(checks=CHECKS)


def test_chained_calls_by_a_curator_get_no_server_error_and_conforming_answers(
    seeded, curator_headers
):
    class CuratorScenarios(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": curator_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance],
                headers=curator_headers,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    CuratorScenarios.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
