"""Choices shared by the models, the API and the admin."""

from __future__ import annotations

from django.db import models


class Difficulty(models.IntegerChoices):
    # Integers so that ordering by difficulty is beginner < intermediate < advanced.
    BEGINNER = 1, "Beginner"
    INTERMEDIATE = 2, "Intermediate"
    ADVANCED = 3, "Advanced"

    @property
    def slug(self) -> str:
        return self.name.lower()

    @classmethod
    def from_slug(cls, slug: str) -> Difficulty:
        try:
            return cls[slug.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown difficulty {slug!r}") from None


class Kind(models.TextChoices):
    VIDEO = "video", "Video"
    ARTICLE = "article", "Article / post"
    TUTORIAL = "tutorial", "Tutorial"
    COURSE = "course", "Course"
    BOOK = "book", "Book"
    PAPER = "paper", "Paper"
    INTERACTIVE = "interactive", "Interactive"
    PODCAST = "podcast", "Podcast"
    DOCUMENTATION = "documentation", "Documentation"
    REPOSITORY = "repository", "Repository"


class Cost(models.TextChoices):
    FREE = "free", "Free"
    FREEMIUM = "freemium", "Freemium"
    PAID = "paid", "Paid"


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class HealthState(models.TextChoices):
    # "Unknown", not "never checked": checks that give no verdict (bot walls below the
    # threshold, the checker offline) leave a resource unknown after it was checked.
    UNKNOWN = "unknown", "Unknown"
    HEALTHY = "healthy", "Healthy"
    MOVED = "moved", "Moved"
    SUSPECT = "suspect", "Suspect"
    BROKEN = "broken", "Broken"
    UNVERIFIABLE = "unverifiable", "Unverifiable"


class CheckSource(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Check now"
    COMMAND = "command", "checklinks command"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class ReportStatus(models.TextChoices):
    CLAIMED = "claimed", "Being generated"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ProblemKind(models.TextChoices):
    BROKEN = "broken", "The link is broken"
    MOVED = "moved", "It moved to another address"
    OUTDATED = "outdated", "It is outdated"
    PAYWALLED = "paywalled", "It is paywalled now"
    OTHER = "other", "Other"


class ProblemStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"
