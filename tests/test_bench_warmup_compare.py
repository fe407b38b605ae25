"""bench/warmup_compare.py: the warm-up rule's table and verdict, on made-up curves."""
from tests.bench_loader import bench_module

wc = bench_module("warmup_compare")


def test_rule_needs_60_percent_by_epoch_15_and_to_stay_ahead_of_scratch_later():
    scratch = [0.0] * 12 + [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
    ahead = [0.0] * 9 + [45.0, 50.0, 55.0, 58.0, 59.0, 61.0, 70.0, 80.0]
    lines, ok = wc.compare(ahead, scratch, 3)
    assert ok and lines[15].split() == ["15", "120000", "61.00", "30.00", "60.00"]
    lines, ok = wc.compare(ahead[:14], scratch, 3)  # too short to say
    assert not ok
    slow = ahead[:14] + [59.0, 70.0, 80.0]  # 59 % at epoch 15
    assert not wc.compare(slow, scratch, 3)[1]
    behind = ahead[:16] + [69.0]  # epoch 17 below scratch's epoch 20 (80 %)
    assert not wc.compare(behind, scratch, 3)[1]
    assert wc.compare(behind, scratch, 1)[1]  # against scratch one epoch later (epoch 18: 60 %) it holds
