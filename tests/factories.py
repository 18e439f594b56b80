from __future__ import annotations

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from curation.checker.urlnorm import normalize_url
from curation.models import (
    Collection,
    CollectionItem,
    CollectionSection,
    Difficulty,
    HealthState,
    Kind,
    LinkCheck,
    PublicationStatus,
    Resource,
    Topic,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


class CuratorFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"curator{n}")
    is_staff = True

    @factory.post_generation
    def curators_group(self, create, extracted, **kwargs):
        if create:
            # get_or_create: transactional tests flush the rows migration 0002 created.
            self.groups.add(Group.objects.get_or_create(name="Curators")[0])


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.LazyAttribute(lambda t: t.name.lower().replace(" ", "-"))


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource
        skip_postgeneration_save = True

    url = factory.Sequence(lambda n: f"https://example.test/resources/{n}")
    normalized_url = factory.LazyAttribute(lambda r: normalize_url(r.url))
    title = factory.Sequence(lambda n: f"Resource {n}")
    kind = Kind.ARTICLE
    difficulty = Difficulty.BEGINNER
    status = PublicationStatus.PUBLISHED
    health = HealthState.HEALTHY

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    title = factory.Sequence(lambda n: f"Collection {n}")
    slug = factory.Sequence(lambda n: f"collection-{n}")
    status = PublicationStatus.PUBLISHED


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionSection

    collection = factory.SubFactory(CollectionFactory)
    title = factory.Sequence(lambda n: f"Section {n}")
    position = factory.Sequence(lambda n: n)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionItem

    section = factory.SubFactory(SectionFactory)
    resource = factory.SubFactory(ResourceFactory)
    position = factory.Sequence(lambda n: n)


class LinkCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LinkCheck

    resource = factory.SubFactory(ResourceFactory)
    checked_at = factory.LazyFunction(timezone.now)
    url = factory.LazyAttribute(lambda c: c.resource.url)
    outcome = "ok"
    status_code = 200


# --- Reports (issue 7) ---------------------------------------------------------------------


class HealthTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "curation.HealthTransition"

    resource = factory.SubFactory(ResourceFactory)
    from_state = HealthState.HEALTHY
    to_state = HealthState.SUSPECT
    at = factory.LazyFunction(timezone.now)
    reason = factory.LazyAttribute(lambda t: f"{t.from_state} -> {t.to_state}")


class CheckerIncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "curation.CheckerIncident"

    started_at = factory.LazyFunction(timezone.now)
    reason = "most hosts failed at the network level"
    checks_discarded = 0


def _week_before(moment):
    from datetime import timedelta

    return moment - timedelta(days=7)


class LinkReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "curation.LinkReport"

    period_end = factory.LazyFunction(timezone.now)
    period_start = factory.LazyAttribute(lambda r: _week_before(r.period_end))
    status = "ready"
    generated_at = factory.LazyAttribute(lambda r: r.period_end)
    data = factory.LazyFunction(dict)
