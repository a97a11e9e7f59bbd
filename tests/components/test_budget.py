"""The global budget's rule, on plain counts (the workers' real race is in tests/flows/test_workers.py)."""

from tunaflow.components.budget import BudgetCount, next_step


def test_running_trials_hold_their_place_in_the_budget():
    assert next_step(BudgetCount(finished=3, running=1), 5) == "run"
    assert next_step(BudgetCount(finished=3, running=2), 5) == "wait"
    assert next_step(BudgetCount(finished=5, running=0), 5) == "done"


def test_failed_trials_do_not_spend_the_budget_until_failures_outnumber_it():
    assert next_step(BudgetCount(finished=4, failed=3), 5) == "run"
    assert next_step(BudgetCount(finished=0, failed=6), 5) == "done"


def test_counts_come_from_trial_state_names():
    count = BudgetCount.of(["COMPLETE", "PRUNED", "RUNNING", "FAIL", "WAITING", "COMPLETE"])
    assert count == BudgetCount(finished=3, running=1, failed=1)
