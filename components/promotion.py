"""Champion or challenger: whether a retrained model earns the champion's place."""

from __future__ import annotations

from dataclasses import dataclass

LOWER_IS_BETTER = ("log_loss", "rmse", "mae")


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    improvement: float | None = None  # challenger minus champion, signed so that larger is better


def decide_promotion(champion: dict | None, challenger: dict, metric: str, margin: float,
                     champion_problem: str | None = None) -> PromotionDecision:
    """Promote when there is no champion to beat, or the challenger beats it by at least ``margin``.

    Both metric dicts must come from the same held-out data; ``champion_problem`` says why
    the champion could not be scored on it (then it cannot defend its place).
    """
    if champion is None:
        return PromotionDecision(True, champion_problem or "no champion yet: the first model becomes the champion")
    if metric == "auto":  # regression scores carry rmse, classification ones accuracy
        metric = "rmse" if "rmse" in challenger else "accuracy"
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    improvement = sign * (challenger[metric] - champion[metric])
    compared = (f"challenger {metric} {challenger[metric]:.4f} vs champion {champion[metric]:.4f} "
                f"({improvement:+.4f}, margin {margin:g})")
    # "better by at least the margin": a tie never replaces a champion, even with margin 0
    if improvement > 0 and improvement >= margin:
        return PromotionDecision(True, f"promoted: {compared}", improvement)
    return PromotionDecision(False, f"kept the champion: {compared}", improvement)
