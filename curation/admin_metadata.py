"""Metadata pieces of the resource admin (owned by the metadata work)."""

from __future__ import annotations


class MetadataAdminMixin:
    """Placeholder extension point; the metadata work fills in suggestions and actions."""

    metadata_readonly_fields: tuple[str, ...] = ()
    metadata_actions: tuple[str, ...] = ()
