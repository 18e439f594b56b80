"""The domain: fields, constraints and choices, one module per capability.

Everything is re-exported here, so `from curation.models import Resource` is the one way in.
"""

from curation.models.archive import ArchivedSnapshot, SnapshotSource
from curation.models.catalog import (
    HTTP_URL_VALIDATOR,
    Collection,
    CollectionItem,
    CollectionSection,
    MetadataSuggestion,
    Resource,
    ResourceQuerySet,
    Topic,
)
from curation.models.choices import (
    CheckSource,
    Cost,
    Difficulty,
    HealthState,
    Kind,
    ProblemKind,
    ProblemStatus,
    PublicationStatus,
    ReportStatus,
    SuggestionStatus,
)
from curation.models.feedback import ProblemReport
from curation.models.health import CheckerIncident, HealthTransition, LinkCheck, LinkReport
from curation.models.transfer import ImportJob, ImportJobStatus
from curation.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "HTTP_URL_VALIDATOR",
    "ArchivedSnapshot",
    "CheckSource",
    "CheckerIncident",
    "Collection",
    "CollectionItem",
    "CollectionSection",
    "Cost",
    "DeliveryStatus",
    "Difficulty",
    "HealthState",
    "HealthTransition",
    "ImportJob",
    "ImportJobStatus",
    "Kind",
    "LinkCheck",
    "LinkReport",
    "MetadataSuggestion",
    "ProblemKind",
    "ProblemReport",
    "ProblemStatus",
    "PublicationStatus",
    "ReportStatus",
    "Resource",
    "ResourceQuerySet",
    "SnapshotSource",
    "SuggestionStatus",
    "Topic",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
