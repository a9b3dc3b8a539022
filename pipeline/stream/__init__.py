"""The Faust application: its configuration, topics, agents and the worker entry point."""
