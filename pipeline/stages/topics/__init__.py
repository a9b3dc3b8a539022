"""Stages that assign topics: IPTC Media Topics and the taxonomy's tags."""
