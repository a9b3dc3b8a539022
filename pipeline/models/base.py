"""What every model shares: the strict pydantic base, the schema version, bounded scores."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1

Score = Annotated[float, Field(ge=0.0, le=1.0)]
Sentiment = Annotated[float, Field(ge=-1.0, le=1.0)]

THRESHOLD = 0.2
"""A sentiment below -THRESHOLD reads as negative, above THRESHOLD as positive."""


def polarity(score: float) -> Literal[-1, 0, 1]:
    """-1, 0 or 1: the reading of a sentiment score."""
    return -1 if score < -THRESHOLD else (1 if score > THRESHOLD else 0)


Offset = Annotated[int, Field(ge=0)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)
