"""The Faust application: its configuration, topics, agents, their at-least-once delivery and
the worker entry point."""
