"""requirements.lock against what an environment holds.

``python -m tests.lock --unbounded`` prints pyproject.toml's requirements without their upper
bounds (what `make test-latest` installs); ``python -m tests.lock`` lists the packages of the running
environment whose version differs from the lock, and the direct dependencies installed past
pyproject.toml's upper bounds; tests/test_lock.py asserts that the Makefile's venv holds
exactly the lock.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
# installed by the Makefile to install the lock (uv, pinned there) or by `python -m venv`
INSTALLERS = {"pip", "uv"}
# what `make venv TORCH=gpu` lets the installer choose: torch and the CUDA libraries it brings
GPU_BUILD = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """{package: version} of every pinned line."""
    pins = {}
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line):
            pins[normalize(match[1])] = match[2]
    return pins


def installed() -> dict[str, str]:
    """{package: version} of the running interpreter's environment, the project itself left out."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = normalize(dist.metadata["Name"])
        if name != "tunaflow" and name not in INSTALLERS:
            found[name] = dist.version
    return found


def differences(lock: dict[str, str], have: dict[str, str], ignore=lambda name: False) -> dict[str, tuple]:
    """{package: (locked, installed)} wherever they differ (None: absent on that side)."""
    names = (lock.keys() | have.keys())
    return {name: (lock.get(name), have.get(name)) for name in sorted(names)
            if not ignore(name) and lock.get(name) != have.get(name)}


def upper_bounds() -> dict[str, str]:
    """{package: the specifier of pyproject.toml's upper bound} of every direct dependency."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    bounds = {}
    for requirement in [*project["dependencies"], *sum(project["optional-dependencies"].values(), [])]:
        name = normalize(re.match(r"[A-Za-z0-9._-]+", requirement)[0])
        if upper := re.search(r"<=?\s*[0-9][^,;\s\"]*", requirement):
            bounds[name] = upper[0]
    return bounds


def unbounded_requirements() -> list[str]:
    """pyproject.toml's requirements (extras test and all included) without their upper bounds:
    what the drift check installs, so that a release past a bound is tried the day it lands."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *(r for r in sum(extras.values(), []) if not r.startswith("tunaflow"))]
    lines = []
    for requirement in wanted:
        requirement = re.sub(r",?\s*<=?\s*[0-9][^,;\s\"]*", "", requirement)
        lines.append(requirement.replace("[,", "[").strip())
    return lines


def past_bound(version: str, bound: str) -> bool:
    """Whether ``version`` lies above ``bound`` ("<3.19" or "<=3.18.0"), compared by release numbers."""
    def release(text):
        return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])
    limit = release(bound.lstrip("<="))
    return release(version) > limit if bound.startswith("<=") else release(version) >= limit


def main(argv: list[str]) -> int:
    if argv == ["--unbounded"]:
        print("\n".join(unbounded_requirements()))
        return 0
    diff = differences(read_lock(), installed())
    bounds = upper_bounds()
    print(f"{len(diff)} package(s) differ from {LOCK.name}:")
    for name, (locked, have) in diff.items():
        beyond = " (past pyproject.toml's bound " + bounds[name] + ")" \
            if have and name in bounds and past_bound(have, bounds[name]) else ""
        print(f"  {name:32} lock {locked or '-':14} here {have or '-'}{beyond}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
