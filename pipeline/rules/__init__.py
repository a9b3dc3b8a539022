"""Downstream rules over enriched events: watch rules (alerts) and trends."""
