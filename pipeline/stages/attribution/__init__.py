"""Stages that attribute: quotations with their speakers, stance towards entities."""
