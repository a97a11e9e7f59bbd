"""The model stage's summary for a network, a scikit-learn family and an auto family."""

from tunaflow.components.spec import build_spec
from tunaflow.tasks.model import _summary
from tests.components.synthetic_splits import table_splits


def _spec(model, space=None):
    return build_spec({"name": "m", "data": {"source": "x.csv"}, "model": model,
                       "search": {"space": space} if space else {}})


def test_a_scikit_learn_family_is_described_by_its_estimator():
    text, n_params = _summary(_spec({"family": "hgb", "max_iter": 30}), table_splits("regression", cards=(4,)))
    assert "HistGradientBoostingRegressor" in text and "max_iter = 30" in text and n_params == 0


def test_a_regression_network_is_built_with_one_output_and_its_embeddings():
    text, n_params = _summary(_spec({"family": "mlp", "layers": 1, "units": [8]}),
                              table_splits("regression", cards=(4,)))
    assert "Embedding(4, 2)" in text and "out_features=1" in text and n_params > 0


def test_an_auto_family_names_the_families_the_search_chooses_from():
    spec = _spec({"family": "auto"}, {"model.family": {"type": "categorical", "choices": ["hgb", "ridge"]}})
    text, n_params = _summary(spec, table_splits())
    assert "chooses the family per trial among hgb, ridge" in text and n_params == 0
