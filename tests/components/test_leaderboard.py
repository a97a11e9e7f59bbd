"""The leaderboard from fixed trial summaries: one row per family, best first, what each cost."""

from tunaflow.components.leaderboard import (TrialSummary, leaderboard_markdown, leaderboard_text, rank_families,
                                             rows_from_json)

TRIALS = [
    TrialSummary(0, "COMPLETE", "mlp", 0.80, test_score=0.78, seconds=4.0),
    TrialSummary(1, "COMPLETE", "hgb", 0.90, test_score=0.88, seconds=1.5),
    TrialSummary(2, "PRUNED", "mlp", 0.40, seconds=1.0),  # a pruned trial's value is its last epoch's
    TrialSummary(3, "COMPLETE", "mlp", 0.85, test_score=0.86, seconds=5.0),
    TrialSummary(4, "FAIL", "logreg", None, seconds=0.5),  # a family with only failures has no row
    TrialSummary(5, "COMPLETE", "hgb", 0.90, test_score=0.91, seconds=0.01, duplicate_of=1),
    TrialSummary(6, "COMPLETE", "rf", 0.85, test_score=0.80, seconds=2.0),
    TrialSummary(7, "RUNNING", "rf", None),
]


def test_rows_rank_families_by_their_best_validation_value_with_the_best_trials_test_score():
    rows = rank_families(TRIALS, maximize=True, metric="valid_acc", test_metric="accuracy")
    assert [r.family for r in rows] == ["hgb", "mlp", "rf"]  # mlp and rf tie at 0.85: the earlier trial first
    hgb, mlp, rf = rows
    assert (hgb.best_value, hgb.best_trial, hgb.test_score) == (0.90, 1, 0.88)  # the original, not its duplicate
    assert (hgb.trials, hgb.pruned, hgb.reused) == (1, 0, 1)
    assert (mlp.best_value, mlp.best_trial, mlp.test_score) == (0.85, 3, 0.86)
    assert (mlp.trials, mlp.pruned, mlp.reused) == (2, 1, 0)
    assert mlp.seconds == 10.0 and hgb.seconds == 1.51
    assert (rf.trials, rf.best_trial) == (1, 6)  # the running trial is not counted
    assert hgb.to_json()["metric"] == "valid_acc" and hgb.to_json()["test_metric"] == "accuracy"


def test_a_minimized_metric_ranks_the_lowest_first():
    trials = [TrialSummary(0, "COMPLETE", "ridge", 3.0, test_score=3.2), TrialSummary(1, "COMPLETE", "hgb", 2.0),
              TrialSummary(2, "PRUNED", "mlp", 1.0)]
    rows = rank_families(trials, maximize=False, metric="valid_rmse", test_metric="rmse")
    # a family whose trials were all pruned has no best value: last
    assert [(r.family, r.best_value) for r in rows] == [("hgb", 2.0), ("ridge", 3.0), ("mlp", None)]


def test_one_family_makes_a_one_row_board_in_markdown_and_text():
    rows = rank_families([TrialSummary(0, "COMPLETE", "mlp", 0.9, test_score=0.875, seconds=2.25)],
                         maximize=True, metric="valid_acc", test_metric="accuracy")
    markdown = leaderboard_markdown(rows).splitlines()
    assert markdown[0] == "| family | trials | pruned | best valid_acc | trial | test accuracy | seconds |"
    assert markdown[2] == "| mlp | 1 | 0 | 0.9000 | #0 | 0.8750 | 2.2 |" and len(markdown) == 3
    text = leaderboard_text(rows).splitlines()
    assert len(text) == 2 and text[0].startswith("family") and text[1].split() == ["mlp", "1", "0", "0.9000", "#0",
                                                                                  "0.8750", "2.2"]


def test_the_reused_column_shows_when_a_duplicate_ran_and_rows_survive_json():
    rows = rank_families(TRIALS, maximize=True, metric="valid_acc", test_metric="accuracy")
    header = leaderboard_markdown(rows).splitlines()[0]
    assert "| reused |" in header
    assert rows_from_json([r.to_json() for r in rows]) == rows
    assert leaderboard_markdown([]) == leaderboard_text([]) == ""
    assert "-" in leaderboard_text(rank_families([TrialSummary(0, "PRUNED", "mlp", 0.5)], True, "valid_acc",
                                                 "accuracy"))
