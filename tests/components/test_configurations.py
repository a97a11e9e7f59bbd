"""Configuration keys: one per set of sampled values."""

from tunaflow.components.configurations import config_key


def test_keys_ignore_order_and_float_round_off_but_not_types():
    assert config_key({"a": 0.1 * 3, "b": "relu"}) == config_key({"b": "relu", "a": 0.3})
    assert config_key({"a": 1e-3}) != config_key({"a": 1.1e-3})
    assert config_key({"x": True}) != config_key({"x": 1})
    assert config_key({"x": None}) == config_key({"x": None})
    assert config_key({}) == config_key({})
    assert config_key({"a": 1}) != config_key({"a": 1, "b": 2})  # another branch's keys
