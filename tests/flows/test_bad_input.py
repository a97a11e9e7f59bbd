"""Hostile and mistaken input through the real command line (issue 21).

Each case runs the installed `tunaflow` in a subprocess with its own TUNAFLOW_HOME and
asserts what the README promises for bad input: exit 2, exactly one line on stderr naming
the field or file, no traceback, and nothing written to the study storage or MLflow. The
wall time is reported (``-s`` prints it; junit records it), not asserted.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import tiny_spec_tree

TUNAFLOW = str(Path(sys.executable).parent / "tunaflow")
slow = pytest.mark.slow


def _spec(tmp: Path, tree=None, text: str | None = None, name: str = "spec.yaml") -> str:
    path = tmp / name
    if text is not None:
        path.write_text(text)
    else:
        path.write_text(yaml.safe_dump(tree, sort_keys=False))
    return str(path)


def _space(**entries) -> dict:
    return tiny_spec_tree(search={"space": {path.replace("__", "."): dist for path, dist in entries.items()}})


def _csv(tmp: Path, text: str, name: str = "data.csv") -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def _table(tmp: Path, cell: str = "1.5", target=lambda i: i % 3, rows: int = 60) -> str:
    lines = ["a,b,y"] + [f"{i % 7},{cell if i == 5 else i % 5 + 0.5},{target(i)}" for i in range(rows)]
    return _csv(tmp, "\n".join(lines) + "\n")


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npz(tmp: Path, data: bytes, name: str = "data.npz") -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


def _object_npz(tmp: Path) -> str:
    path = tmp / "objects.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("X.npy", "w") as handle:
            np.lib.format.write_array(handle, np.array([{"a": 1}] * 30, dtype=object), allow_pickle=True)
        with archive.open("y.npy", "w") as handle:
            np.lib.format.write_array(handle, np.arange(30) % 2)
    return str(path)


def _good_npz() -> bytes:
    return _npz_bytes(X=np.random.default_rng(0).random((60, 4), dtype=np.float32), y=np.arange(60) % 2)


def _image_folder(tmp: Path) -> str:
    from PIL import Image

    root = tmp / "images"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (8, 8), color=i * 20).save(root / name / f"{i}.png")
    # 400 megapixels of one bit each: a few kilobytes on disk, Pillow's decompression-bomb guard trips
    Image.new("1", (20000, 20000)).save(root / "a" / "bomb.png")
    return str(root)


def _laughs(levels: int = 7, width: int = 10) -> str:
    """A billion-laughs document whose last anchor expands inside search.space."""
    lines = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * width)}]" for i in range(1, levels)]
    spec = tiny_spec_tree()
    spec["search"]["space"]["model.activation"] = {"type": "categorical", "choices": "@BOMB@"}
    body = yaml.safe_dump(spec, sort_keys=False).replace("'@BOMB@'", f"*x{levels - 1}")
    return "\n".join(lines) + "\n" + body


def _flow_laughs(levels: int = 7) -> str:
    parts = ["&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    parts += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def _nested_block(depth: int) -> str:
    lines = ["name: deep", "data: {source: digits}", "augment:"]
    lines += [f"{'  ' * (i + 1)}k{i}:" for i in range(depth)]
    return "\n".join(lines) + f"\n{'  ' * (depth + 1)}leaf: 1\n"


def _validate(tree_or_text, *extra, name="spec.yaml"):
    """A case that writes a spec and runs `validate` on it (plus ``extra`` arguments)."""
    def build(tmp):
        text = tree_or_text(tmp) if callable(tree_or_text) else tree_or_text
        path = _spec(tmp, text=text, name=name) if isinstance(text, str) else _spec(tmp, text, name=name)
        return ["validate", path, *extra], {}
    return build


def _data(source, **data):
    """`validate` on the tiny spec reading ``source(tmp)``."""
    def build(tmp):
        tree = tiny_spec_tree(data={"source": source(tmp), "subsample": 1.0, **data})
        return ["validate", _spec(tmp, tree)], {}
    return build


def _env(tree, **env):
    def build(tmp):
        values = {k: v(tmp) if callable(v) else v for k, v in env.items()}
        return ["validate", _spec(tmp, tree(tmp) if callable(tree) else tree)], values
    return build


def _run(build_validate):
    """The same case through `tunaflow run`: refused before the flow writes anything."""
    def build(tmp):
        args, env = build_validate(tmp)
        return ["run", *args[1:]], env
    return build


def _home_file(tmp: Path) -> str:
    path = tmp / "home-is-a-file"
    path.write_text("not a folder")
    return str(path)


GRID = {"sampler": "grid", "space": {f"model.units.{i}": {"type": "int", "low": 1, "high": 200} for i in range(3)}}

# case: (builder(tmp) -> (argv, env), text the one stderr line must hold)
CASES = {
    # the spec file itself
    "spec file missing": (lambda t: (["validate", str(t / "none.yaml")], {}), "none.yaml: file not found"),
    "spec is a folder": (lambda t: (["validate", str(t)], {}), "is a folder, not a spec file"),
    "spec not utf-8": (lambda t: (["validate", _npz(t, b"\xff\xfe\x00name: x\x00", "bin.yaml")], {}),
                       "bin.yaml: cannot be read (not UTF-8 text)"),
    "spec empty": (_validate(""), "spec.yaml: the spec must be a YAML mapping"),
    "spec is a list": (_validate("- name\n- data\n"), "spec.yaml: the spec must be a YAML mapping"),
    "malformed yaml": (_validate("name: x\ndata: {source: digits\n"), "spec.yaml: malformed YAML at line"),
    "deep flow nesting": (_validate("name: x\ndata: " + "[" * 20000 + "]" * 20000 + "\n"),
                          "spec.yaml: nested deeper than 64 levels"),
    "deep block nesting": (_validate(_nested_block(300)), "spec.yaml: nested deeper than 64 levels"),
    "alias bomb in search.space": (_validate(_laughs()), "spec.yaml: expands to more than 100,000 values"),
    "50 MB spec": (_validate("name: tiny\ndata: {source: digits}\n#" + "x" * 50_000_000 + "\n"),
                   "spec.yaml: larger than 1 MiB"),
    "python tag": (_validate("name: x\ndata: !!python/object/apply:os.system ['echo pwned']\n"),
                   "spec.yaml: malformed YAML at line 2"),
    "duplicate section": (_validate("name: x\ntrain: {epochs: 2}\ndata: {source: digits}\ntrain: {epochs: 3}\n"),
                          "spec.yaml: duplicate key 'train'"),
    "integer of 5000 digits": (_validate("name: x\ndata: {source: digits}\nseed: " + "9" * 5000 + "\n"),
                               "spec.yaml: a value cannot be read"),
    "seed beyond 2**32": (_validate(tiny_spec_tree(seed=10**30)),
                          "seed: Input should be less than or equal to 4294967295"),
    "name with a path": (_validate(tiny_spec_tree(name="../../etc")), "name: String should match pattern"),
    "unknown section": (_validate({**tiny_spec_tree(), "trian": {"epochs": 2}}), "trian: unknown field"),
    "unknown model family": (_validate(tiny_spec_tree(model={"family": "transformer"})), "model: unknown name"),
    "union tag not in field name": (_validate(_space(train__lr={"type": "float", "low": 0.1, "high": 0.01})),
                                    "search.space.train.lr: low (0.1) must be less than high (0.01)"),
    # --set
    "--set without =": (_validate(tiny_spec_tree(), "--set", "train.lr"), "--set: expected PATH=VALUE"),
    "--set huge list index": (_validate(tiny_spec_tree(), "--set", "model.units.2000000000=8"),
                              "--set model.units.2000000000: list index 2000000000 is beyond the limit"),
    "--set index of 40 digits": (_validate(tiny_spec_tree(), "--set", f"model.units.{'9' * 40}=8"),
                                 "is beyond the limit of 1024"),
    "--set unknown section": (_validate(tiny_spec_tree(), "--set", "foo=1"), "--set foo: no such field in the spec"),
    "--set unknown field": (_validate(tiny_spec_tree(), "--set", "train.learning_rate=0.1"),
                            "--set train.learning_rate: no such field in the spec"),
    "--set below a value": (_validate(tiny_spec_tree(), "--set", "train.epochs.x=1"), "--set train.epochs.x:"),
    "--set value out of range": (_validate(tiny_spec_tree(), "--set", "train.epochs=-3"),
                                 "--set train.epochs: Input should be greater than or equal to 1"),
    "--set alias bomb value": (_validate(tiny_spec_tree(), "--set", f"model.units={_flow_laughs()}"),
                               "--set model.units: expands to more than 100,000 values"),
    "--set 100 dotted parts": (_validate(tiny_spec_tree(), "--set", ".".join(["train"] * 100) + "=1"),
                               "more than 64 dotted parts"),
    # search space distributions
    "infinite bound": (_validate(_space(train__weight_decay={"type": "float", "low": 0, "high": float("inf")})),
                       "search.space.train.weight_decay.high: Input should be a finite number"),
    "nan bound": (_validate(_space(train__weight_decay={"type": "float", "low": float("nan"), "high": 1})),
                  "search.space.train.weight_decay.low: Input should be a finite number"),
    "infinite step": (_validate(_space(train__weight_decay={"type": "float", "low": 0, "high": 1,
                                                            "step": float("inf")})),
                      "search.space.train.weight_decay.step: Input should be a finite number"),
    "int bound past 2**53": (_validate(_space(train__batch_size={"type": "int", "low": 1, "high": 10**30})),
                             "search.space.train.batch_size.high: Input should be less than or equal to"),
    "log scale from zero": (_validate(_space(train__weight_decay={"type": "float", "low": 0, "high": 1,
                                                                  "log": True})),
                            "search.space.train.weight_decay: log scale needs low > 0"),
    "no choices": (_validate(_space(model__activation={"type": "categorical", "choices": []})),
                   "search.space.model.activation.choices"),
    "unknown distribution": (_validate(_space(train__lr={"type": "gaussian", "mean": 0.1})),
                             "search.space.train.lr: unknown name 'gaussian'"),
    "branch of no choice": (_validate(_space(model__activation={"type": "categorical", "choices": ["relu"],
                                                                "branches": {"tanh": {}}})),
                            "search.space.model.activation: branch 'tanh' is not one of the choices"),
    "searching the search": (_validate(_space(search__n_trials={"type": "int", "low": 1, "high": 3})),
                             "search.space.search.n_trials: only data, augment, model and train"),
    "grid of 10**12 values": (_validate(tiny_spec_tree(search={"sampler": "grid", "space": {
        "train.batch_size": {"type": "int", "low": 1, "high": 10**12}}})),
        "search.space.train.batch_size: a grid of more than 100,000 values"),
    "grid of 8 million combinations": (_validate(tiny_spec_tree(search=GRID)),
                                       "search.space: a grid of more than 100,000 combinations"),
    # where state goes
    "sqlite storage in a missing folder": (
        _validate(tiny_spec_tree(search={"storage": "sqlite:////nonexistent/tunaflow/optuna.db"})),
        "search.storage: sqlite:////nonexistent/tunaflow/optuna.db: the folder /nonexistent/tunaflow does not exist"),
    "sqlite storage is a folder": (
        lambda t: (["validate", _spec(t, tiny_spec_tree(search={"storage": f"sqlite:///{t}"}))], {}),
        "is a folder, not a database file"),
    "storage url without a scheme": (_validate(tiny_spec_tree(search={"storage": "optuna.db"})),
                                     "search.storage: cannot open optuna.db"),
    "storage of an unknown database": (_validate(tiny_spec_tree(search={"storage": "nosuchdb://host/x"})),
                                       "search.storage: cannot open nosuchdb://host/x"),
    "TUNAFLOW_HOME is a file": (_env(tiny_spec_tree(), TUNAFLOW_HOME=_home_file),
                                "TUNAFLOW_HOME: " ),
    "TUNAFLOW_HOME cannot be created": (_env(tiny_spec_tree(), TUNAFLOW_HOME=lambda t: f"{_home_file(t)}/sub"),
                                        "cannot be created"),
    "tracking sqlite in a missing folder": (
        _env(tiny_spec_tree(), MLFLOW_TRACKING_URI="sqlite:////nonexistent/mlflow.db"),
        "MLFLOW_TRACKING_URI: sqlite:////nonexistent/mlflow.db: the folder /nonexistent does not exist"),
    "reserved alias latest": (_validate(tiny_spec_tree(tracking={"alias": "latest"})), "tracking.alias: 'latest'"),
    "version-like alias": (_validate(tiny_spec_tree(tracking={"alias": "v3"})), "tracking.alias: 'v3'"),
    "model name with a slash": (_validate(tiny_spec_tree(tracking={"registered_model": "team/model"})),
                                "tracking.registered_model: 'team/model'"),
}
DATA_CASES = {
    "header-only csv": (_data(lambda t: _csv(t, "a,b,y\n"), target="y"), "data.csv: no data rows"),
    "binary csv": (_data(lambda t: _npz(t, b"\x00\xff" * 500, "data.csv"), target="y"), "data.csv:"),
    "png decompression bomb": (_data(_image_folder), "bomb.png: cannot be read as an image"),
    "csv cell beyond float32": pytest.param(
        _data(lambda t: _table(t, cell="1e39"), target="y"), "data.csv: value(s) beyond float32's range (±3.40e+38) in column(s) b"),
    "regression target beyond float32": pytest.param(
        _data(lambda t: _table(t, target=lambda i: 1e39 if i == 3 else i * 0.37), target="y", task="regression"),
        "data.csv:"),
    "single integer class": pytest.param(
        _data(lambda t: _table(t, target=lambda i: 0), target="y"), "data.csv: the target has a single class (0)"),
    "npz truncated": pytest.param(_data(lambda t: _npz(t, _good_npz()[:300])), "data.npz: not a readable NPZ file"),
    "npz of python objects": pytest.param(_data(_object_npz), "objects.npz: holds Python object arrays"),
    "npz of zero samples": pytest.param(
        _data(lambda t: _npz(t, _npz_bytes(X=np.zeros((0, 4), np.float32), y=np.zeros(0, np.int64)))),
        "data.npz: holds no samples"),
}
CASES.update(DATA_CASES)

# the same refusals from `run`, which must not get further than `validate` did
RUN_CASES = {
    "run: infinite bound": (_run(CASES["infinite bound"][0]), CASES["infinite bound"][1]),
    "run: sqlite storage in a missing folder": (_run(CASES["sqlite storage in a missing folder"][0]),
                                                CASES["sqlite storage in a missing folder"][1]),
    "run: TUNAFLOW_HOME is a file": (_run(CASES["TUNAFLOW_HOME is a file"][0]), "TUNAFLOW_HOME: "),
    "run: reserved alias": (_run(CASES["reserved alias latest"][0]), "tracking.alias: 'latest'"),
    "run: --set huge list index": (_run(CASES["--set huge list index"][0]), CASES["--set huge list index"][1]),
    "run: png decompression bomb": (_run(CASES["png decompression bomb"][0]), CASES["png decompression bomb"][1]),
}

# A case refused while the spec is read takes about a second; one refused after torch, MLflow and
# Optuna are imported (space checks against data, state locations, data files) takes several:
# those run with the slow marker, but for two that keep the state checks in the default run
# (a SQLite storage in a missing folder, the reserved alias).
SLOW_CASES = {"50 MB spec", "searching the search", "grid of 10**12 values", "grid of 8 million combinations",
              "sqlite storage is a folder", "storage url without a scheme", "storage of an unknown database",
              "TUNAFLOW_HOME is a file", "TUNAFLOW_HOME cannot be created", "tracking sqlite in a missing folder",
              "version-like alias", "model name with a slash"}


def _params(cases: dict, all_slow: bool = False) -> list:
    out = []
    for name, case in cases.items():
        if not hasattr(case, "marks"):  # a plain (build, expected) pair
            case = pytest.param(*case)
        reads_data = name in DATA_CASES
        marks = list(case.marks) + ([slow] if all_slow or reads_data or name in SLOW_CASES else [])
        out.append(pytest.param(*case.values, marks=marks, id=name))
    return out


def _state_files(root: Path) -> list[str]:
    """Study storage, MLflow store and artifacts anywhere under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.suffix in (".db", ".db-wal", ".db-journal") or p.name in ("artifacts", "mlruns", ".tunaflow"))


def _check_refused(build, expected: str, tmp_path: Path, record_property) -> None:
    work = tmp_path / "work"
    work.mkdir()
    argv, env_extra = build(work)
    home = tmp_path / "home"
    env = {**os.environ, "TUNAFLOW_HOME": str(home), "PYTHONWARNINGS": ""}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(env_extra)
    started = time.monotonic()
    proc = subprocess.run([TUNAFLOW, *argv], capture_output=True, text=True, env=env, cwd=work, timeout=300)
    seconds = time.monotonic() - started
    record_property("wall_s", round(seconds, 2))
    print(f"\n{argv[0]} refused in {seconds:.2f}s: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("tunaflow: error: ") and expected in lines[0], lines[0]
    assert "np.int64" not in lines[0] and ".float:" not in lines[0]
    assert not _state_files(tmp_path), _state_files(tmp_path)


@pytest.mark.parametrize("build,expected", _params(CASES))
def test_validate_refuses_bad_input(build, expected, tmp_path, record_property):
    _check_refused(build, expected, tmp_path, record_property)


@pytest.mark.parametrize("build,expected", _params(RUN_CASES, all_slow=True))
def test_run_refuses_what_validate_refuses(build, expected, tmp_path, record_property):
    _check_refused(build, expected, tmp_path, record_property)


def test_python_tag_runs_nothing(tmp_path):
    """A YAML tag that would call os.system with PyYAML's unsafe loader is refused, not run."""
    marker = tmp_path / "pwned"
    spec = _spec(tmp_path, text=f"name: x\ndata: !!python/object/apply:os.system ['touch {marker}']\n")
    proc = subprocess.run([TUNAFLOW, "validate", spec], capture_output=True, text=True,
                          env={**os.environ, "TUNAFLOW_HOME": str(tmp_path / "home")}, timeout=300)
    assert proc.returncode == 2 and not marker.exists()
