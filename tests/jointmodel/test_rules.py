"""Pure rules against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jinyu.jointmodel import rules


@pytest.mark.parametrize(
    ("scores", "labels", "expected"),
    [
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75),  # the classic ROC example: 3 of 4 pairs ordered
        ([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1], 0.5),  # all tied: every pair counts one half
        ([1, 2, 2, 3], [0, 0, 1, 1], 0.875),  # (1 + 0.5 + 1 + 1) / 4
        ([3, 2, 1], [0, 1, 1], 0.0),
    ],
)
def test_auc_by_hand(scores: list[float], labels: list[int], expected: float) -> None:
    assert rules.auc(scores, labels) == pytest.approx(expected)


def test_auc_without_both_classes_is_not_a_number() -> None:
    assert math.isnan(rules.auc([0.1, 0.2], [1, 1]))


def test_ks_by_hand() -> None:
    # positives at 0.6, 0.8, 0.9; negatives at 0.1, 0.3, 0.7: at threshold 0.3 the CDFs are 0 and 2/3
    assert rules.ks_statistic([0.6, 0.8, 0.9, 0.1, 0.3, 0.7], [1, 1, 1, 0, 0, 0]) == pytest.approx(2 / 3)


def test_batch_gradient_by_hand() -> None:
    x = np.array([[1.0, 2.0], [1.0, -1.0]])
    w = np.array([0.4, 0.0])
    residual = 0.25 * (x @ w) + 0.5 - np.array([1.0, 0.0])  # [0.6 - 1, 0.6] = [-0.4, 0.6]
    # X^T d / 2 = [(-0.4 + 0.6) / 2, (-0.8 - 0.6) / 2] = [0.1, -0.7]; plus l2*w = [0.04, 0]
    np.testing.assert_allclose(rules.batch_gradient(x, residual, w, 0.1), [0.14, -0.7])


def test_guest_offset_is_the_guest_share_of_the_taylor_residual() -> None:
    np.testing.assert_allclose(rules.guest_offset(np.array([2.0, -2.0]), np.array([1.0, 0.0])), [0.0, 0.0])


def test_epoch_batches_partition_the_rows_and_repeat_for_a_seed() -> None:
    first = rules.epoch_batches(10, 4, epoch=2, seed=5)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(np.concatenate(first).tolist()) == list(range(10))
    assert [b.tolist() for b in first] == [b.tolist() for b in rules.epoch_batches(10, 4, epoch=2, seed=5)]
    assert [b.tolist() for b in first] != [b.tolist() for b in rules.epoch_batches(10, 4, epoch=3, seed=5)]


def test_validation_split_share_and_stability() -> None:
    picked = [rules.is_validation(str(i), 11, 0.2) for i in range(5000)]
    assert 0.18 < sum(picked) / 5000 < 0.22
    assert picked == [rules.is_validation(str(i), 11, 0.2) for i in range(5000)]


def test_scale_points_double_the_odds() -> None:
    scale = rules.Scale(base=600, base_odds=50, pdo=20)
    # logit ln(1/50) (odds 50:1 good:bad) scores 600; odds 100:1 scores 620
    assert scale.offset - scale.factor * math.log(1 / 50) == pytest.approx(600)
    assert scale.offset - scale.factor * math.log(1 / 100) == pytest.approx(620)


def test_bins_and_card_points_by_hand() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    edges = rules.quantile_edges(values, 2)
    assert edges == [3.5]
    assert rules.bin_index(np.array([3.5, 3.6, -9.0, 99.0]), edges).tolist() == [0, 1, 0, 1]
    scale = rules.Scale()
    points = rules.bin_points(values, edges, weight=0.5, scale=scale)
    assert points == [round(-scale.factor * 0.5 * 2.0, 4), round(-scale.factor * 0.5 * 5.0, 4)]
    table = [(edges, points)]
    np.testing.assert_allclose(rules.card_points(np.array([[1.0], [6.0]]), table), points)
