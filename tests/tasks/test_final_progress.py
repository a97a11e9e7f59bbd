"""How often the final training says where it is (tasks/train.py)."""

from tunaflow.tasks.train import progress_due


def test_a_long_final_training_says_a_line_every_tenth_of_its_epochs_first_and_last_included():
    said = [epoch for epoch in range(1, 121) if progress_due(epoch, 120, quiet_seconds=0.0)]
    assert said[0] == 1 and said[-1] == 120
    assert said == [1, *range(12, 121, 12)]  # 11 lines, not 120


def test_a_short_final_training_says_every_epoch_and_a_slow_one_says_something_every_10_seconds():
    assert all(progress_due(epoch, 5, quiet_seconds=0.0) for epoch in range(1, 6))
    assert not progress_due(7, 120, quiet_seconds=9.9)
    assert progress_due(7, 120, quiet_seconds=10.0)
