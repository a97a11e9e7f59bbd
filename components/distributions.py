"""The distributions a ``search.space`` entry may take, as spec models."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Scalar = Union[bool, int, float, str, None]
# Optuna's samplers compute in float64: integers beyond 2**53 are not sampled exactly, and an
# infinite or NaN bound has no uniform or log-uniform distribution at all.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
ExactInt = Annotated[int, Field(ge=-(2**53), le=2**53)]


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FloatDistribution(_Distribution):
    """A float between ``low`` and ``high``, on a log scale or in steps if asked."""

    type: Literal["float"] = "float"
    low: FiniteFloat
    high: FiniteFloat
    log: bool = False
    step: FiniteFloat | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check_range(self) -> "FloatDistribution":
        _check_bounds(self.low, self.high, self.log)
        if self.log and self.step is not None:
            raise ValueError("log scale and step cannot be combined")
        return self

    def candidates(self) -> list[Any]:
        return [self.low, self.high]


class IntDistribution(_Distribution):
    """An integer between ``low`` and ``high`` inclusive."""

    type: Literal["int"] = "int"
    low: ExactInt
    high: ExactInt
    log: bool = False
    step: ExactInt = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _check_range(self) -> "IntDistribution":
        _check_bounds(self.low, self.high, self.log)
        if self.log and self.step != 1:
            raise ValueError("log scale and step cannot be combined")
        return self

    def candidates(self) -> list[Any]:
        return [self.low, self.high]


class CategoricalDistribution(_Distribution):
    """One of ``choices``; ``branches`` maps a choice to a sub-space sampled only with it."""

    type: Literal["categorical"] = "categorical"
    choices: list[Scalar] = Field(min_length=1)
    branches: dict[str, dict[str, "Distribution"]] = Field(default_factory=dict)

    @field_validator("branches", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads `3:` as an int key; branches are matched on the choice's text.
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check_branches(self) -> "CategoricalDistribution":
        names = {str(c) for c in self.choices}
        unknown = sorted(set(self.branches) - names)
        if unknown:
            raise ValueError(f"branch {unknown[0]!r} is not one of the choices {sorted(names)}")
        return self

    def candidates(self) -> list[Any]:
        return list(self.choices)

    def branch_for(self, choice: Any) -> dict[str, "Distribution"]:
        return self.branches.get(str(choice), {})


def _check_bounds(low: float, high: float, log: bool) -> None:
    if low >= high:
        raise ValueError(f"low ({low}) must be less than high ({high})")
    if log and low <= 0:
        raise ValueError(f"log scale needs low > 0, got {low}")


Distribution = Annotated[
    Union[FloatDistribution, IntDistribution, CategoricalDistribution],
    Field(discriminator="type"),
]

CategoricalDistribution.model_rebuild()
