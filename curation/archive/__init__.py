"""Archived copies: find the snapshot of a failing page in web archives (Memento, RFC 7089)."""
