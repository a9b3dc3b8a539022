"""Stages that turn a raw record into an article: normalise, identity, language, duplicates."""
