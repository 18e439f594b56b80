from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.checker.metadata import extract_metadata, parse_iso8601_duration
from curation.checker.metadata_jsonld import extract_jsonld

FIXTURES = Path(__file__).parent / "fixtures" / "metadata"


def jsonld(*documents: object) -> str:
    return "".join(
        f'<script type="application/ld+json">{json.dumps(doc)}</script>' for doc in documents
    )


def page_with(*documents: object):
    html = f"<html><head>{jsonld(*documents)}</head><body></body></html>"
    return extract_metadata(html.encode(), content_type="text/html", final_url="https://x.example/")


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        ("PT1H2M3S", 62),
        ("P1DT2H", 26 * 60),
        ("PT90M", 90),
        ("PT1H30M", 90),
        ("PT12M34S", 13),
        ("PT12M29S", 12),
        ("PT30S", 1),
        ("PT10S", 1),
        ("PT1.5H", 90),
        ("PT0,5H", 30),
        ("P1W", 7 * 24 * 60),
        (" pt45m ", 45),
        ("PT1H30M0.000S", 90),
    ],
)
def test_it_reads_iso8601_durations_as_rounded_minutes(value, minutes):
    assert parse_iso8601_duration(value) == minutes


@pytest.mark.parametrize(
    "value",
    [
        "1h",
        "PTXM",
        "P",
        "PT",
        "-PT5M",
        "PT-5M",
        "PT0S",
        "P1H",
        "PT10001H",
        "P500D",
        "90",
        "",
        None,
        90,
    ],
)
def test_it_ignores_malformed_zero_negative_and_absurd_durations(value):
    assert parse_iso8601_duration(value) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_duration_parsing_never_raises_and_stays_in_range(value):
    minutes = parse_iso8601_duration(value)

    assert minutes is None or 1 <= minutes <= 10_000 * 60


def test_it_finds_the_course_inside_nested_graph_lists_and_ignores_bad_durations():
    body = (FIXTURES / "jsonld_graph_bad_durations.html").read_bytes()

    meta = extract_metadata(
        body, content_type="text/html", final_url="https://numerics.example/workshop"
    )

    assert meta.title == "Numerical Methods Workshop"
    assert meta.sources["title"] == "json-ld"
    assert meta.kind_hint == "course"
    assert meta.duration_minutes is None  # "1h", "PTXM" and a workload of "P" are all ignored
    assert meta.educational_level == "Intermediate, Advanced"
    assert meta.is_free is True
    assert meta.author == "Inès Duarte, Numerics Lab staff"


def test_it_accepts_a_type_list_and_full_schema_iris():
    facts = extract_jsonld(
        [json.dumps({"@type": ["Thing", "https://schema.org/ScholarlyArticle"], "headline": "H"})]
    )

    assert facts is not None
    assert (facts.kind_hint, facts.title) == ("paper", "H")


def test_it_takes_the_first_relevant_node_in_document_order():
    meta = page_with(
        {"@type": "WebSite", "name": "Site"},
        {"@type": "Book", "name": "The Book", "author": {"@type": "Organization", "name": "Press"}},
        {"@type": "VideoObject", "name": "Trailer", "duration": "PT2M"},
    )

    assert (meta.title, meta.kind_hint, meta.author, meta.duration_minutes) == (
        "The Book",
        "book",
        "Press",
        None,
    )


def test_it_reads_is_accessible_for_free_from_bool_or_string():
    assert page_with({"@type": "Course", "isAccessibleForFree": False}).is_free is False
    assert page_with({"@type": "Course", "isAccessibleForFree": "false"}).is_free is False
    assert page_with({"@type": "Course", "isAccessibleForFree": "maybe"}).is_free is None


def test_it_reads_duration_from_time_required_and_course_workload():
    assert page_with({"@type": "LearningResource", "timeRequired": "PT45M"}).duration_minutes == 45
    course = {"@type": "Course", "hasCourseInstance": [{"courseWorkload": "PT20H"}]}
    assert page_with(course).duration_minutes == 1200


def test_it_skips_scripts_that_are_not_json_and_reads_the_rest():
    html = (
        '<script type="application/ld+json">{broken</script>'
        '<script type="application/ld+json"><!-- {"@type":"Article","headline":"Ok"} --></script>'
    )
    meta = extract_metadata(
        f"<html><head>{html}</head></html>".encode(), content_type="text/html", final_url=""
    )

    assert meta.title == "Ok"


def test_it_survives_deeply_nested_json():
    nested = "[" * 100_000 + "]" * 100_000

    assert extract_jsonld([nested, '{"@type":"Article","headline":"After"}']).title == "After"


def test_it_normalises_the_published_date():
    assert page_with(
        {"@type": "Article", "datePublished": "2021-02-05T07:00:11-08:00"}
    ).published == ("2021-02-05")
    assert page_with({"@type": "Article", "datePublished": "2019/05"}).published == "2019-05"
    assert page_with({"@type": "Article", "datePublished": "0001-01-01"}).published == ""
    assert page_with({"@type": "Article", "datePublished": "yesterday"}).published == ""
