"""The peers beside tunaflow in bench/model_quality.py (``--peers``): AutoGluon and FLAML, each run
by bench/peers.py as a process of the bench-only environment (``make bench-env``, never tunaflow's
dependencies), on the rows tunaflow trained its final model on (train + validation) and tested on.

Each peer's ``seconds`` is measured here around its whole process (imports included), as
tunaflow's is around ``tunaflow run``; ``fit_predict_seconds`` is what peers.py measured around
fit and predict alone. The tables put each peer's test score and wall time beside tunaflow's and
the best scikit-learn default's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

PEERS = ("autogluon_medium", "autogluon_best", "flaml")
BENCH_PYTHON = Path(__file__).resolve().parent.parent / ".venv-bench" / "bin" / "python"
PEERS_SCRIPT = Path(__file__).resolve().with_name("peers.py")


def peer_list(text: str) -> list[str]:
    """``--peers``: comma-separated names of PEERS."""
    systems = [s for s in text.split(",") if s]
    if (unknown := [s for s in systems if s not in PEERS]):
        raise argparse.ArgumentTypeError(f"unknown peer {', '.join(unknown)}: choose from {', '.join(PEERS)}")
    return systems


def missing_bench_env() -> str | None:
    """Why the peers cannot run here, or None."""
    if not BENCH_PYTHON.exists():
        return f"--peers: no bench environment at {BENCH_PYTHON.parent.parent} (run `make bench-env`)"
    return None


def run_peers(systems: list[str], table, rows: dict[str, np.ndarray], time_limit: float, seed: int,
              workdir: Path) -> dict[str, dict]:
    """Each peer fitted on tunaflow's train + validation rows of ``table`` and scored on its test rows."""
    frame = pd.read_csv(table.path)
    train, test = workdir / "peer-train.csv", workdir / "peer-test.csv"
    frame.iloc[np.concatenate([rows["train"], rows["val"]])].to_csv(train, index=False)
    frame.iloc[rows["test"]].to_csv(test, index=False)
    results = {}
    for system in systems:
        out = workdir / f"peer-{system}.json"
        command = [str(BENCH_PYTHON), str(PEERS_SCRIPT), "--system", system, "--train", str(train), "--test", str(test),
                   "--target", table.target, "--task", table.task, "--time-limit", f"{time_limit:g}",
                   "--seed", str(seed), "--out", str(out)]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        (workdir / f"peer-{system}.log").write_text(done.stdout + done.stderr)
        result = json.loads(out.read_text()) if out.exists() else {}
        if done.returncode != 0 and "error" not in result:
            result["error"] = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        result["fit_predict_seconds"] = result.pop("seconds", None)
        results[system] = {**result, "seconds": seconds}
    return results


def _cell(result: dict | None, digits: int = 3) -> str:
    if not result:
        return "-"
    return "error" if "score" not in result else f"{result['score']:.{digits}f}"


def peers_markdown(rows: list[dict], systems: list[str]) -> str:
    """One line per set and draw: test score and wall time (s) of tunaflow, each peer, the best default."""
    head = "| set | seed | task | rows | tunaflow | wall | " + " | ".join(f"{s} | wall" for s in systems) + " | best default |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        peers = row.get("peers", {})
        best = max(v["score"] for v in row["defaults"].values())
        lines.append(f"| {row['set']} | {row.get('seed', 0)} | {row['task']} | {row['rows']} | "
                     f"**{_cell(row['tunaflow'])}** | {row['tunaflow']['seconds']:.0f} | "
                     + " | ".join(f"{_cell(peers.get(s))} | {peers[s]['seconds']:.0f}" if s in peers else "- | -"
                                  for s in systems)
                     + f" | {best:.3f} |")
    return "\n".join(lines)


def peers_averaged(rows: list[dict], systems: list[str]) -> str:
    """One line per set: the mean test score over its draws and the longest wall time of each system
    (a system's mean counts only its draws that ended with a score: `n/N` says when some did not)."""
    names = ["tunaflow", *systems]
    head = "| set | task | draws | " + " | ".join(f"{s} | longest wall" for s in names) + " | best default (mean) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    by_set: dict[str, list[dict]] = {}
    for row in rows:
        by_set.setdefault(row["set"], []).append(row)
    for name, draws in by_set.items():
        cells = []
        for system in names:
            runs = [d["tunaflow"] if system == "tunaflow" else d.get("peers", {}).get(system) for d in draws]
            runs = [r for r in runs if r]
            scored = [r["score"] for r in runs if "score" in r]
            mean = f"{statistics.mean(scored):.3f}" if scored else "error" if runs else "-"
            if scored and len(scored) < len(draws):
                mean += f" ({len(scored)}/{len(draws)})"
            cells.append(f"{mean} | {max(r['seconds'] for r in runs):.0f}" if runs else "- | -")
        means = {k: statistics.mean(d["defaults"][k]["score"] for d in draws) for k in draws[0]["defaults"]}
        best = max(means, key=means.get)
        lines.append(f"| {name} | {draws[0]['task']} | {len(draws)} | " + " | ".join(cells)
                     + f" | {means[best]:.3f} ({best}) |")
    return "\n".join(lines)
