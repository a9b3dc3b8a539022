"""Stages that find entities: the recogniser, linking to the knowledge base, places."""
