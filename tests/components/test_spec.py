import json

import pytest

from tunaflow.components.errors import SpecError
from tunaflow.components.spec import CNNSpec, ExperimentSpec, apply_overrides, build_spec, load_spec, read_spec_file
from tests.conftest import tiny_spec_tree


def test_minimal_spec_fills_defaults():
    spec = build_spec({"name": "x", "data": {"source": "iris"}})
    assert spec.model.family == "auto"  # the study chooses the family
    assert spec.search.sampler == "tpe"
    assert spec.tracking.alias == "champion"
    assert spec.experiment_name == "x" and spec.model_name == "x"


def test_unknown_key_is_rejected_with_its_path():
    with pytest.raises(SpecError, match=r"train\.lrr: unknown field"):
        build_spec(tiny_spec_tree(train={"lrr": 0.1}))


def test_wrong_type_names_the_field():
    with pytest.raises(SpecError, match=r"train\.epochs"):
        build_spec(tiny_spec_tree(train={"epochs": "many"}))


def test_unknown_activation_lists_allowed_values():
    with pytest.raises(SpecError, match=r"model\.activation: .*'relu'.*'swishy'"):
        build_spec(tiny_spec_tree(model={"activation": "swishy"}))


def test_model_family_selects_the_section():
    tree = tiny_spec_tree()
    tree["model"] = {"family": "cnn", "channels": [8]}
    assert isinstance(build_spec(tree).model, CNNSpec)
    tree["model"] = {"family": "mlp", "channels": [8]}
    with pytest.raises(SpecError, match=r"model\.channels: unknown field"):
        build_spec(tree)


def test_mlp_units_repeat_to_the_number_of_layers():
    spec = build_spec(tiny_spec_tree(model={"layers": 3, "units": [64, 32]}))
    assert spec.model.units == [64, 32, 32]
    spec = build_spec(tiny_spec_tree(model={"layers": 2, "units": 16}))
    assert spec.model.units == [16, 16]


def test_fractions_must_leave_training_data():
    with pytest.raises(SpecError, match="val_fraction"):
        build_spec(tiny_spec_tree(data={"source": "iris", "val_fraction": 0.5, "test_fraction": 0.5}))


def test_overrides_set_nested_fields_as_yaml_values():
    tree = apply_overrides(tiny_spec_tree(), ["train.lr=0.05", "model.activation=tanh", "search.n_trials=7"])
    spec = build_spec(tree)
    assert spec.train.lr == 0.05 and spec.model.activation == "tanh" and spec.search.n_trials == 7


def test_override_of_an_unknown_section_fails():
    with pytest.raises(SpecError, match=r"--set"):
        apply_overrides(tiny_spec_tree(), ["nope"])


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndata: [unclosed\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: malformed YAML at line"):
        read_spec_file(path)


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_schema_is_json_and_has_the_contract_sections():
    schema = ExperimentSpec.model_json_schema()
    json.dumps(schema)
    assert {"name", "seed", "data", "augment", "model", "train", "search", "tracking"} <= set(schema["properties"])


def test_study_digest_ignores_budget_but_not_space():
    base = build_spec(tiny_spec_tree())
    more = build_spec(tiny_spec_tree(search={"n_trials": 50}))
    other = build_spec(tiny_spec_tree(train={"epochs": 3}))
    assert base.study_digest() == more.study_digest()
    assert base.study_digest() != other.study_digest()
