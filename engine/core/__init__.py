"""Shared vocabulary of the engine: errors, the event dataclasses, the search configuration."""
