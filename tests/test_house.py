"""House rules the whole project depends on: imports point one way, files stay small."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("components", "tasks", "flows", "deployments")


def installed_layout(root: Path) -> Path:
    """The package as pip installs it (tunaflow/components, ...), for tools that walk folders."""
    package = root / "tunaflow"
    shutil.copytree(REPO / "tunaflow", package, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in FOLDERS:
        shutil.copytree(REPO / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_import_contracts_hold(tmp_path):
    """import-linter's contracts in pyproject.toml: components <- tasks <- flows <- deployments <- api <- cli,
    the command line importing nothing but the API, and no Prefect or MLflow in components."""
    root = installed_layout(tmp_path / "layout")
    proc = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), str(REPO / "pyproject.toml"),
                           "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "3 kept, 0 broken" in proc.stdout


def test_no_python_file_is_over_400_lines():
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True).stdout.split()
    long = {name: n for name in files if (n := len((REPO / name).read_text().splitlines())) > 400}
    assert not long, f"split these by concept: {long}"
