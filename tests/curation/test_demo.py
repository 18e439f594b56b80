from __future__ import annotations

import pytest

from curation.demo.loader import DEMO_FILE, load_demo
from curation.models import Collection, CollectionItem, Resource, Topic

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    collection = Collection.objects.get(slug="so-you-are-interested-in-deep-learning")
    return {
        "topics": sorted(
            (
                t.slug,
                t.parent.slug if t.parent else None,
                sorted(p.slug for p in t.prerequisites.all()),
            )
            for t in Topic.objects.all()
        ),
        "resources": sorted(
            Resource.objects.values_list(
                "url", "title", "kind", "difficulty", "status", "curator_note"
            )
        ),
        "sections": [
            (s.title, [(i.resource.url, i.note, i.required) for i in s.items.all()])
            for s in collection.sections.all()
        ],
    }


def test_loading_the_demo_twice_gives_the_same_data():
    load_demo()
    first = snapshot()
    load_demo()
    assert snapshot() == first


def test_the_demo_collection_has_the_seed_posts_sections_in_order():
    load_demo()
    collection = Collection.objects.get(slug="so-you-are-interested-in-deep-learning")
    assert [s.title for s in collection.sections.all()] == [
        "Start with a course",
        "Convolutions",
        "Gradient Descent",
        "RNNs",
        "Embeddings",
        "The math, as needed",
        "Practice",
        "What the student had found",
    ]
    first_section = collection.sections.first()
    assert first_section.items.first().resource.url == "https://cs231n.github.io/"


def test_the_demo_puts_the_math_before_gradient_descent():
    load_demo()
    gradient_descent = Topic.objects.get(slug="gradient-descent")
    assert {t.slug for t in gradient_descent.prerequisites.all()} == {"linear-algebra", "calculus"}


def test_the_demo_uses_only_the_known_addresses_from_the_seed():
    # The addresses are the ones listed in shared/seed/addresses.md; the project carries its
    # own copy so that nothing reads ../shared at run time.
    load_demo()
    known = {
        "https://cs231n.github.io/", "http://cs231n.stanford.edu/", "https://course.fast.ai/",
        "https://setosa.io/ev/image-kernels/",
        "https://colah.github.io/posts/2014-07-Understanding-Convolutions/",
        "https://ujjwalkarn.me/2016/08/11/intuitive-explanation-convnets/",
        "https://benanne.github.io/2015/03/17/plankton.html",
        "https://pyimagesearch.com/2016/10/10/gradient-descent-with-python/",
        "https://pyimagesearch.com/2016/10/17/stochastic-gradient-descent-sgd-with-python/",
        "https://karpathy.github.io/2015/05/21/rnn-effectiveness/",
        "https://colah.github.io/posts/2014-07-NLP-RNNs-Representations/",
        "https://www.khanacademy.org/math",
        "https://www.youtube.com/playlist?list=PLZHQObOWTQDPD3MizzM2xVFitgF8hE_ab",
        "https://www.kaggle.com/competitions", "https://www.deeplearningbook.org/",
        "http://deeplearning.net/",
    }  # fmt: skip
    assert set(Resource.objects.values_list("url", flat=True)) == known
    assert "shared" not in str(DEMO_FILE.resolve().relative_to(DEMO_FILE.parents[2]))


def test_rerunning_the_demo_keeps_a_curators_edits():
    load_demo()
    item = CollectionItem.objects.filter(section__title="Convolutions").first()
    item.note = "My own words"
    item.save()
    load_demo()
    item.refresh_from_db()
    assert item.note == "My own words"


def test_make_run_loads_the_demo_into_an_empty_catalogue():
    from django.core.management import call_command

    call_command("load_demo", "--if-empty")
    assert Resource.objects.exists()


def test_a_demo_row_a_curator_deleted_does_not_come_back_on_the_next_start(capsys):
    from django.core.management import call_command

    call_command("load_demo", "--if-empty")
    deleted = CollectionItem.objects.order_by("pk").first()
    url = deleted.resource.url
    deleted.delete()
    Resource.objects.filter(url=url).delete()
    call_command("load_demo", "--if-empty")
    assert not Resource.objects.filter(url=url).exists()
    assert "not empty: the demo was not loaded" in capsys.readouterr().out
