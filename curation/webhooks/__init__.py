"""Webhooks: events written in the transaction that made the change, delivered signed."""
