from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from curation.demo.loader import load_demo
from curation.models import Collection, Resource, Topic
from tests.factories import ResourceFactory, TopicFactory

pytestmark = pytest.mark.django_db

# The resource page's read-only inlines still post their management forms.
EMPTY_INLINES = {
    f"{prefix}-{field}": "0"
    for prefix in ("checks", "suggestions")
    for field in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def form_data(html: str, form_id: str) -> dict[str, object]:
    """The fields a browser would submit for the form, as the page rendered them."""
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", id=form_id)
    data: dict[str, object] = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or field.get("type") in ("submit", "button", "file"):
            continue
        if field.name == "select":
            chosen = [o.get("value") for o in field.find_all("option") if o.has_attr("selected")]
            if field.has_attr("multiple"):
                data[name] = chosen
            elif chosen:
                data[name] = chosen[0]
        elif field.get("type") == "checkbox":
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        elif field.name == "textarea":
            data[name] = field.text.lstrip("\n")
        else:
            data[name] = field.get("value", "")
    return data


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:curation_resource_changelist",
        "admin:curation_resource_add",
        "admin:curation_topic_changelist",
        "admin:curation_collection_changelist",
        "admin:curation_collection_add",
    ],
)
def test_a_curator_can_open_the_workbench_pages(curator_client, url_name):
    load_demo()
    response = curator_client.get(reverse(url_name))
    assert response.status_code == 200


def test_the_resource_list_filters_by_health_and_searches_notes(curator_client):
    ResourceFactory(title="Alive", health="healthy", curator_note="about kernels")
    ResourceFactory(title="Dead", health="broken")
    url = reverse("admin:curation_resource_changelist")
    page = curator_client.get(url, {"health__exact": "broken"}).content.decode()
    assert "Dead" in page and "Alive" not in page
    page = curator_client.get(url, {"q": "kernels"}).content.decode()
    assert "Alive" in page and "Dead" not in page


def test_the_resource_page_shows_its_check_history(curator_client):
    from tests.factories import LinkCheckFactory

    check = LinkCheckFactory(outcome="not_found", status_code=404, rule="status-404")
    page = curator_client.get(
        reverse("admin:curation_resource_change", args=[check.resource.pk])
    ).content.decode()
    assert "Check history" in page
    assert "status-404" in page


def test_a_curator_adds_a_resource_in_the_admin(curator_client, curator):
    topic = TopicFactory(name="Convolutions")
    response = curator_client.post(
        reverse("admin:curation_resource_add"),
        {
            "url": "https://example.com/kernels?utm_source=feed",
            "title": "Kernels",
            "kind": "article",
            "difficulty": "1",
            "topics": [topic.pk],
            "cost": "free",
            "status": "draft",
            **EMPTY_INLINES,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get()
    assert resource.normalized_url == "https://example.com/kernels"
    assert resource.created_by == curator
    assert list(resource.topics.all()) == [topic]


def test_the_admin_refuses_a_duplicate_and_names_the_existing_resource(curator_client):
    existing = ResourceFactory(url="https://example.com/kernels", title="Image kernels")
    response = curator_client.post(
        reverse("admin:curation_resource_add"),
        {
            "url": "https://EXAMPLE.com/kernels/#top",
            "title": "Again",
            "kind": "article",
            "difficulty": "1",
            "cost": "free",
            "status": "draft",
            **EMPTY_INLINES,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already in the catalogue" in page
    assert "Image kernels" in page
    assert reverse("admin:curation_resource_change", args=[existing.pk]) in page
    assert Resource.objects.count() == 1


def test_the_admin_refuses_a_prerequisite_cycle(curator_client):
    a = TopicFactory(name="A")
    b = TopicFactory(name="B")
    b.prerequisites.add(a)
    response = curator_client.post(
        reverse("admin:curation_topic_change", args=[a.pk]),
        {"name": "A", "slug": "a", "description": "", "prerequisites": [b.pk]},
    )
    assert response.status_code == 200
    assert "cycle" in response.content.decode()
    assert list(Topic.objects.get(pk=a.pk).prerequisites.all()) == []


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("publish", "status", "published"),
        ("archive", "status", "archived"),
        ("make_advanced", "difficulty", 3),
    ],
)
def test_bulk_actions_change_every_selected_resource(curator_client, action, field, value):
    chosen = [ResourceFactory(status="draft"), ResourceFactory(status="draft")]
    other = ResourceFactory(status="draft")
    response = curator_client.post(
        reverse("admin:curation_resource_changelist"),
        {"action": action, "_selected_action": [r.pk for r in chosen]},
    )
    assert response.status_code == 302
    for resource in chosen:
        resource.refresh_from_db()
        assert getattr(resource, field) == value
    other.refresh_from_db()
    assert other.status == "draft" and other.difficulty == 1


def test_a_curator_reorders_a_collections_items(curator_client):
    load_demo()
    collection = Collection.objects.get(slug="so-you-are-interested-in-deep-learning")
    section = collection.sections.get(title="Gradient Descent")
    before = [item.resource.title for item in section.items.all()]
    url = reverse("admin:curation_collection_change", args=[collection.pk])
    data = form_data(curator_client.get(url).content.decode(), "collection_form")
    # Reverse the order of the section's items by rewriting their position fields.
    item_ids = {str(item.pk): item for item in section.items.all()}
    id_fields = [k for k, v in data.items() if k.endswith("-id") and v in item_ids and "items" in k]
    positions = [int(data[k[: -len("-id")] + "-position"]) for k in id_fields]
    for key, position in zip(id_fields, reversed(positions), strict=True):
        data[key[: -len("-id")] + "-position"] = str(position)
    data["_save"] = "Save"
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    # The outline is saved whole by save_collection: the section is read again by its title.
    section = collection.sections.get(title="Gradient Descent")
    assert [item.resource.title for item in section.items.all()] == list(reversed(before))


def test_the_collection_page_shows_the_list_as_a_learner_reads_it(curator_client):
    load_demo()
    collection = Collection.objects.get(slug="so-you-are-interested-in-deep-learning")
    page = curator_client.get(
        reverse("admin:curation_collection_change", args=[collection.pk])
    ).content.decode()
    assert (
        page.index("Start with a course") < page.index("Gradient Descent") < page.index("Practice")
    )


def test_a_user_outside_the_curators_group_cannot_reach_the_workbench(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=False))
    response = client.get(reverse("admin:curation_resource_changelist"))
    assert response.status_code == 302
