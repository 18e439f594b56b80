from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from curation.catalog import services
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def test_it_refuses_a_topic_as_its_own_parent():
    topic = TopicFactory(name="Algebra")
    topic.parent = topic
    with pytest.raises(ValidationError, match="own parent"):
        services.save_topic(topic)


def test_it_refuses_a_cycle_in_the_tree():
    root = TopicFactory(name="Math")
    child = TopicFactory(name="Algebra", parent=root)
    grandchild = TopicFactory(name="Linear algebra", parent=child)
    root.parent = grandchild
    with pytest.raises(ValidationError) as caught:
        services.save_topic(root)
    assert "cycle" in caught.value.message_dict["parent"][0]


def test_it_refuses_a_cycle_in_prerequisites_and_names_the_chain():
    calculus = TopicFactory(name="Calculus")
    gradients = TopicFactory(name="Gradient descent")
    networks = TopicFactory(name="Neural networks")
    services.save_topic(gradients, prerequisites=[calculus])
    services.save_topic(networks, prerequisites=[gradients])
    with pytest.raises(ValidationError) as caught:
        services.save_topic(calculus, prerequisites=[networks])
    message = caught.value.message_dict["prerequisites"][0]
    assert "Calculus → Neural networks → Gradient descent → Calculus" in message
    assert list(calculus.prerequisites.all()) == []


def test_it_refuses_a_topic_as_its_own_prerequisite():
    topic = TopicFactory(name="Calculus")
    with pytest.raises(ValidationError, match="own prerequisite"):
        services.save_topic(topic, prerequisites=[topic])


def test_it_accepts_a_diamond_of_prerequisites():
    base = TopicFactory(name="Linear algebra")
    left = TopicFactory(name="Embeddings")
    right = TopicFactory(name="Convolutions")
    top = TopicFactory(name="CNNs")
    services.save_topic(left, prerequisites=[base])
    services.save_topic(right, prerequisites=[base])
    services.save_topic(top, prerequisites=[left, right])
    assert set(top.prerequisites.all()) == {left, right}
