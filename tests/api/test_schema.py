"""The OpenAPI description is for API users: generated without warnings, no notes for the
code's maintainers in it, and honest about what a request body may hold."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command

# Words that belong to the code, not to a client of the API.
IMPLEMENTATION_WORDS = re.compile(
    r"\bself\.|serializer|queryset|docstring|spectacular|viewset|read_shape|last_modified|\bDRF\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn: any drf-spectacular warning or error (e.g. W001, two names for
        # one enum) fails the command.
        call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))
    return yaml.safe_load(path.read_text())


def descriptions(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield where, value
            else:
                yield from descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from descriptions(value, f"{where}/{index}")


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_the_schema_is_generated_without_warnings(schema):
    assert schema["paths"]


def test_no_description_speaks_of_the_implementation(schema):
    leaks = [(where, text) for where, text in descriptions(schema)
             if IMPLEMENTATION_WORDS.search(text)]  # fmt: skip
    assert leaks == []


def test_every_operation_has_a_summary(schema):
    assert [name for name, operation in operations(schema) if not operation.get("summary")] == []


def test_request_bodies_allow_only_the_fields_they_list(schema):
    components = schema["components"]["schemas"]
    writes = [name for name in components if name.endswith("Write")]
    assert writes
    assert {name: components[name].get("additionalProperties") for name in writes} == {
        name: False for name in writes
    }


def test_difficulty_has_one_name_in_the_schema(schema):
    enums = [name for name in schema["components"]["schemas"] if name.endswith("Enum")]
    assert "DifficultyEnum" in enums
    assert "LevelEnum" not in enums
