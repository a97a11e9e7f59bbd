"""One installed package: everything under ``tunaflow.``, nothing generic on a user's sys.path.

Users' projects have their own ``tasks.py``, ``flows/`` or ``components/``; tunaflow
must neither shadow them nor be shadowed by them, installed editable or from a wheel.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GENERIC = ("components", "tasks", "flows", "deployments")


def user_project(root: Path) -> Path:
    """A project of a user's with modules named like tunaflow's folders."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "tasks.py").write_text("OWNER = 'user'\n")
    (root / "flows").mkdir(exist_ok=True)
    (root / "flows" / "__init__.py").write_text("OWNER = 'user'\n")
    (root / "components.py").write_text("OWNER = 'user'\n")
    return root


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, **extra}


PROBE = """
import importlib.util, sys
import tunaflow, tunaflow.flows.automl, tunaflow.tasks.mlflow.pyfunc, tunaflow.deployments.retrain
import tasks, flows, components
assert (tasks.OWNER, flows.OWNER, components.OWNER) == ('user', 'user', 'user')
assert importlib.util.find_spec('deployments') is None
print(tunaflow.__file__)
"""


def test_the_editable_install_leaves_a_users_tasks_and_flows_alone(tmp_path):
    project = user_project(tmp_path / "project")
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=project, capture_output=True, text=True,
                          env=clean_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip()).is_relative_to(REPO / "tunaflow")


def test_a_built_wheel_holds_only_the_tunaflow_package_and_works_beside_a_users_project(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--disable-pip-version-check", "-w", str(dist), str(REPO)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = dist.glob("tunaflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"tunaflow", wheel.name.split("-py3")[0] + ".dist-info"}
    for folder in GENERIC:
        assert any(name.startswith(f"tunaflow/{folder}/") for name in names), folder
    assert "tunaflow/tasks/mlflow/pyfunc.py" in names

    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                              "--disable-pip-version-check", "--target", str(site), str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    project = user_project(tmp_path / "project")
    # the wheel's copy comes first on the path, ahead of the editable install of this checkout
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=project, capture_output=True, text=True,
                          env=clean_env(PYTHONPATH=str(site)), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip()).is_relative_to(site)
    version = subprocess.run([sys.executable, "-m", "tunaflow", "--version"], cwd=project, capture_output=True,
                             text=True, env=clean_env(PYTHONPATH=str(site)), timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("tunaflow "), version.stderr


@pytest.mark.parametrize("name", GENERIC)
def test_no_generic_top_level_name_is_installed(name, tmp_path):
    proc = subprocess.run([sys.executable, "-c", f"import importlib.util as u; print(u.find_spec({name!r}))"],
                          cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "None", proc.stdout + proc.stderr
