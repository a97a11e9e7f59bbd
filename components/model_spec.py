"""The model section of the spec: a dense network or a convolutional one."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from tunaflow.components.spec_section import SpecSection as _Section

ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "sigmoid")

Rate = Annotated[float, Field(ge=0, lt=1)]
Coefficient = Annotated[float, Field(ge=0)]


def per_layer(values: float | list, count: int) -> list:
    """A value per layer: a scalar for all, or a list whose last item repeats."""
    if not isinstance(values, list):
        return [values] * count
    if not values:
        return [0.0] * count
    return (values + [values[-1]] * count)[:count]


class _ModelBase(_Section):
    activation: Literal[ACTIVATIONS] = "relu"
    dropout: Rate | list[Rate] = Field(
        default=0.0, description="Dropout rate, or one rate per hidden layer (mlp) / per block and head (cnn).")
    batch_norm: bool = False
    batch_norm_position: Literal["before", "after"] = Field(
        default="before", description="Batch normalization before or after the activation.")
    output: Literal["softmax", "sigmoid"] = Field(
        default="softmax", description="Output layer: softmax over classes, or one sigmoid unit (two classes).")


class MLPSpec(_ModelBase):
    """A dense network; ``units`` gives each hidden layer's width."""

    family: Literal["mlp"] = "mlp"
    layers: int = Field(default=2, ge=1, le=16, description="Number of hidden layers.")
    units: list[Annotated[int, Field(ge=1, le=8192)]] = Field(
        default_factory=lambda: [128, 64],
        description="Width per hidden layer; a shorter list repeats its last width.",
    )
    shrink: float | None = Field(
        default=None, gt=0, le=1, description="If set, layer i has units[0] * shrink**i units.")

    @model_validator(mode="before")
    @classmethod
    def _units_as_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("units"), int):
            data = {**data, "units": [data["units"]]}
        return data

    @model_validator(mode="after")
    def _one_width_per_layer(self) -> "MLPSpec":
        if not self.units:
            raise ValueError("units needs at least one width")
        if self.shrink is not None:
            widths = [max(1, round(self.units[0] * self.shrink ** i)) for i in range(self.layers)]
        else:
            widths = per_layer(self.units, self.layers)
        object.__setattr__(self, "units", widths)
        return self

    def dropout_rates(self) -> list[float]:
        return per_layer(self.dropout, self.layers)


class CNNSpec(_ModelBase):
    """Convolution blocks (conv, [batch norm], activation, pool) and a dense head."""

    family: Literal["cnn"] = "cnn"
    blocks: int = Field(default=2, ge=1, le=8, description="Number of conv blocks.")
    channels: list[Annotated[int, Field(ge=1, le=1024)]] = Field(
        default_factory=lambda: [16, 32], min_length=1,
        description="Channels per conv block; a shorter list repeats its last value.")
    kernel_size: int = Field(default=3, ge=1, le=11)
    pool: Literal["max", "avg", "none"] = "max"
    dense_units: int = Field(default=64, ge=1, le=8192, description="Width of the dense head.")

    @model_validator(mode="after")
    def _one_width_per_block(self) -> "CNNSpec":
        object.__setattr__(self, "channels", per_layer(self.channels, self.blocks))
        return self

    def dropout_rates(self) -> list[float]:
        """One rate per conv block, then the head's."""
        if isinstance(self.dropout, list):
            return per_layer(self.dropout, self.blocks + 1)
        return [0.0] * self.blocks + [self.dropout]


ModelSpec = Annotated[Union[MLPSpec, CNNSpec], Field(discriminator="family")]
