"""Optional parts through the real command line: a missing extra is bad input (exit 2, one
line, nothing written); heavy optional packages are not imported until used."""

import json
import subprocess
import sys

import yaml

from tunaflow.cli import main
from tests.conftest import tiny_spec_tree


def _spec(tmp_path, **sections):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec_tree(**sections)))
    return str(path)


def _nothing_written(home):
    assert not home.exists() or not {"mlflow.db", "optuna.db", "artifacts"} & {p.name for p in home.iterdir()}


def test_a_cluster_without_prefect_dask_is_one_line_and_exit_2(tmp_path, tunaflow_home, capsys, monkeypatch):
    path = _spec(tmp_path)
    cluster = ["--set", "search.cluster=tcp://127.0.0.1:1", "--set", "search.workers=2"]
    assert main(["validate", path, *cluster]) == 0  # prefect_dask is installed here
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # as if it were not
    for command in ("validate", "run"):
        assert main([command, path, *cluster]) == 2
        err = capsys.readouterr().err.strip()
        assert err == ("tunaflow: error: search.cluster: a Dask cluster needs the prefect_dask package, "
                       "which is not installed; install it with: pip install 'tunaflow[dask]'")
    _nothing_written(tunaflow_home)


def test_a_postgresql_storage_without_its_driver_is_one_line_and_exit_2(tmp_path, tunaflow_home, capsys,
                                                                         monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    path = _spec(tmp_path, search={"storage": "postgresql://u:hunter2@127.0.0.1:1/x"})
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("tunaflow: error: search.storage: postgresql storage needs the psycopg package, "
                   "which is not installed; install it with: pip install 'tunaflow[postgres]'")
    _nothing_written(tunaflow_home)


def test_optional_packages_are_imported_only_when_used():
    code = (
        "import json, sys\n"
        "import tunaflow.cli, tunaflow.api, tunaflow.flows.automl, tunaflow.flows.worker\n"
        "heavy = ('albumentations', 'cv2', 'plotly', 'prefect_dask', 'mlxtend')\n"
        "before = [m for m in heavy if m in sys.modules]\n"
        "import numpy as np\n"
        "from tunaflow.components.augment import build_augmentation\n"
        "from tunaflow.components.augment_spec import AugmentSpec\n"
        "X = np.zeros((4, 8, 8), dtype=np.float32)\n"
        "build_augmentation(AugmentSpec(), 'image', X, seed=0, n_classes=2)\n"
        "off = 'albumentations' in sys.modules\n"
        "spec = AugmentSpec.model_validate({'image': {'rotate': {'p': 0.5}}})\n"
        "build_augmentation(spec, 'image', X, seed=0, n_classes=2).close()\n"
        "print(json.dumps([before, off, 'albumentations' in sys.modules]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    before, with_augmentation_off, with_image_ops = json.loads(proc.stdout.strip().splitlines()[-1])
    assert before == [] and not with_augmentation_off and with_image_ops
