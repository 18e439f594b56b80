from __future__ import annotations

import json

import pytest

from curation.checker.config import CheckerConfig, config_from_settings, parse_allowed_hosts
from curation.checker.outcomes import FAILING_OUTCOMES, CheckResult, Hop, Outcome


def test_the_outcome_set_is_exactly_the_documented_one():
    assert {o.value for o in Outcome} == {
        "ok", "redirected", "not_found", "soft_404", "server_error", "blocked", "http_error",
        "timeout", "dns_error", "connection_error", "tls_error", "redirect_loop",
        "forbidden_target", "invalid_url", "check_error",
    }  # fmt: skip


def test_blocked_and_policy_outcomes_do_not_fail_the_run():
    assert Outcome.BLOCKED not in FAILING_OUTCOMES
    assert Outcome.FORBIDDEN_TARGET not in FAILING_OUTCOMES
    assert Outcome.TIMEOUT in FAILING_OUTCOMES and Outcome.SOFT_404 in FAILING_OUTCOMES


def test_to_dict_gives_the_json_shape():
    result = CheckResult(
        url="http://a.example/x",
        outcome=Outcome.REDIRECTED,
        status_code=200,
        final_url="https://a.example/x",
        redirects=[Hop("http://a.example/x", 301)],
        elapsed_ms=12,
        rule="redirect-permanent",
        retry_after=3.0,
    )
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload == {
        "url": "http://a.example/x",
        "outcome": "redirected",
        "status_code": 200,
        "final_url": "https://a.example/x",
        "redirects": [{"url": "http://a.example/x", "status": 301}],
        "elapsed_ms": 12,
        "error": "",
        "rule": "redirect-permanent",
        "evidence": "",
    }


def test_the_user_agent_is_honest_and_names_the_contact_page():
    config = CheckerConfig(contact_url="https://syllabus.example/bot")
    assert config.user_agent == "SyllabusLinkChecker/0.1 (+https://syllabus.example/bot)"


def test_parse_allowed_hosts_accepts_hosts_ports_and_ipv6():
    assert parse_allowed_hosts(" Intranet.Local, 127.0.0.1:8123 ,,[::1]:9000, ::1") == {
        "intranet.local",
        "127.0.0.1:8123",
        "[::1]:9000",
        "[::1]",
    }
    assert parse_allowed_hosts("") == frozenset()


@pytest.mark.parametrize("bad", ["127.0.0.1:0", "host:99999", "host:http", "a/b", "[::1"])
def test_parse_allowed_hosts_fails_loudly_on_a_bad_entry(bad):
    with pytest.raises(ValueError):
        parse_allowed_hosts(bad)


def test_config_from_settings_reads_linkcheck_values_and_shortens_timeouts():
    config = config_from_settings(
        {
            "LINKCHECK_ALLOWED_INTERNAL_HOSTS": frozenset({"127.0.0.1:8123"}),
            "LINKCHECK_CONTACT_URL": "https://syllabus.example/about",
            "LINKCHECK_CONCURRENCY": 7,
            "LINKCHECK_PER_HOST_CONCURRENCY": 3,
            "LINKCHECK_PER_HOST_INTERVAL": 0.25,
            "LINKCHECK_TIMEOUT": 2,
        },
        concurrency=5,
    )
    assert config.allowed_internal_hosts == {"127.0.0.1:8123"}
    assert config.user_agent.endswith("(+https://syllabus.example/about)")
    assert (config.concurrency, config.per_host_concurrency) == (5, 3)
    assert config.per_host_interval == 0.25
    # Half the budget for one wait: a hang leaves room for the retry.
    assert config.deadline == 2.0 and config.read_timeout == 1.0 and config.connect_timeout == 1.0


def test_config_from_settings_keeps_polite_defaults_when_settings_are_missing():
    config = config_from_settings({})
    assert (config.concurrency, config.per_host_concurrency, config.per_host_interval) == (
        32,
        2,
        1.0,
    )
    assert config.allowed_internal_hosts == frozenset()


def test_config_refuses_unbounded_retries():
    with pytest.raises(ValueError):
        CheckerConfig(retries=100)
