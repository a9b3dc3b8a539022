"""The pure enrichment stages: plain functions and classes over ``pipeline.models``, no Kafka."""
