"""Jinyu 金渝 — open platform for a regional financial regulator's digital-finance hub."""

__version__ = "0.1.0"
