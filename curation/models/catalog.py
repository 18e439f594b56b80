"""The catalogue: topics, resources, collections and what metadata fetches suggest."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q

from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.models.choices import (
    Cost,
    Difficulty,
    HealthState,
    Kind,
    PublicationStatus,
    SuggestionStatus,
)

HTTP_URL_VALIDATOR = URLValidator(schemes=["http", "https"])


class Topic(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="required_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        error = self.parent_cycle_error(self.parent)
        if error:
            raise ValidationError({"parent": error})

    def parent_cycle_error(self, parent: Topic | None) -> str | None:
        """A message when making `parent` this topic's parent would close a loop, else None."""
        if parent is None:
            return None
        if self.pk is not None and parent.pk == self.pk:
            return "A topic cannot be its own parent."
        seen: set[int] = set()
        node = parent
        while node is not None:
            if self.pk is not None and node.pk == self.pk:
                return f"“{parent}” is inside “{self}”: making it the parent would create a cycle."
            if node.pk in seen:  # an existing loop in the data: refuse rather than spin
                return "The topic tree already contains a cycle above this parent."
            seen.add(node.pk)
            node = node.parent
        return None


class ResourceQuerySet(models.QuerySet):
    def published(self) -> ResourceQuerySet:
        return self.filter(status=PublicationStatus.PUBLISHED)

    def servable(self) -> ResourceQuerySet:
        """What a learner may be sent to: published and not known to be dead."""
        return self.published().exclude(health=HealthState.BROKEN)

    def due_for_check(self, now) -> ResourceQuerySet:
        return self.exclude(status=PublicationStatus.ARCHIVED).filter(
            Q(next_check_at__lte=now) | Q(next_check_at__isnull=True),
            Q(check_lease_until__isnull=True) | Q(check_lease_until__lte=now),
        )


class Resource(models.Model):
    url = models.URLField(max_length=MAX_URL_LENGTH, validators=[HTTP_URL_VALIDATOR])
    normalized_url = models.CharField(max_length=MAX_URL_LENGTH, unique=True, editable=False)
    # Optional: a curator may add just the address and let the page's own title fill it in.
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ARTICLE)
    difficulty = models.PositiveSmallIntegerField(
        choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="resources")
    author = models.CharField(max_length=200, blank=True)
    publisher = models.CharField("publisher / site", max_length=200, blank=True)
    language = models.CharField(max_length=35, blank=True, help_text="BCP 47 tag, e.g. en")
    duration_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    cost = models.CharField(max_length=10, choices=Cost.choices, default=Cost.FREE)
    curator_note = models.TextField(blank=True, help_text="Why this is worth a learner's time.")
    featured = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    # Link health: written by the checker and the monitoring state machine only.
    health = models.CharField(
        max_length=15, choices=HealthState.choices, default=HealthState.UNKNOWN, editable=False
    )
    health_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_outcome = models.CharField(max_length=20, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    next_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    first_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_blocked = models.PositiveIntegerField(default=0, editable=False)
    consecutive_moves = models.PositiveIntegerField(default=0, editable=False)
    suggested_url = models.URLField(max_length=MAX_URL_LENGTH, blank=True, editable=False)
    snoozed_until = models.DateTimeField(null=True, blank=True, editable=False)

    # Metadata fetched from the page, kept apart from what the curator wrote:
    # {"title": {"value": ..., "source": "og:title", "fetched_at": "..."}, ...}
    fetched_metadata = models.JSONField(default=dict, blank=True, editable=False)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    metadata_next_fetch_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Freshness: when a curator last confirmed this is still worth recommending.
    last_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The address this resource had before a curator switched it to an archived copy.
    original_url = models.URLField(max_length=MAX_URL_LENGTH, blank=True, editable=False)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "health"], name="resource_status_health"),
            models.Index(fields=["next_check_at", "id"], name="resource_due_order"),
            models.Index(fields=["metadata_next_fetch_at"], name="resource_next_metadata"),
            models.Index(fields=["difficulty", "id"], name="resource_difficulty"),
            models.Index(fields=["kind"], name="resource_kind"),
            models.Index(fields=["featured"], name="resource_featured"),
            # Every filter and ordering the API offers has an index (issue 6).
            models.Index(fields=["title", "id"], name="resource_title"),
            models.Index(fields=["created_at", "id"], name="resource_created"),
            models.Index(fields=["health_changed_at"], name="resource_health_changed"),
            models.Index(fields=["cost"], name="resource_cost"),
            models.Index(fields=["duration_minutes"], name="resource_duration"),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def difficulty_slug(self) -> str:
        return Difficulty(self.difficulty).slug


class MetadataSuggestion(models.Model):
    """A fetched value that differs from what the curator wrote, for the curator to decide."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="suggestions")
    field = models.CharField(max_length=40)
    current_value = models.TextField(blank=True)
    suggested_value = models.TextField()
    value_hash = models.CharField(max_length=64, editable=False)
    source = models.CharField(max_length=60, blank=True)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "field", "value_hash"], name="suggestion_unique_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.suggested_value[:60]}"


class Collection(models.Model):
    """A curated recommendation list: ordered sections, each with ordered items."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    intro = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(max_length=200, blank=True)
    published_on = models.DateField(null=True, blank=True)
    # Its resources need a curator's fresh look after this many days without one.
    review_period_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CollectionSection(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class CollectionItem(models.Model):
    section = models.ForeignKey(CollectionSection, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a resource on a published list is archived, never silently dropped from it.
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="collection_items"
    )
    note = models.TextField(blank=True, help_text="Why this list recommends it, here.")
    required = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "resource"], name="item_unique_in_section")
        ]

    def __str__(self) -> str:
        return str(self.resource)
