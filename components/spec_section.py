"""The base of every spec section: unknown keys are errors, not silently ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
