"""Patient-level splits: reproducible, disjoint, sized as asked."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from smoothseg.datasets.splits import SplitConfig, make_splits, read_splits, write_splits
from smoothseg.errors import InputError, OutputExistsError


def _cases(n_patients: int, per_patient: int = 1) -> dict[str, str]:
    return {f"P{p:03d}_scan{s}": f"P{p:03d}" for p in range(n_patients) for s in range(per_patient)}


def _shuffled(mapping: dict[str, str], seed: int) -> dict[str, str]:
    items = list(mapping.items())
    random.Random(seed).shuffle(items)
    return dict(items)


@pytest.mark.parametrize("config", [SplitConfig(seed=3), SplitConfig("folds", folds=4, seed=3)])
def test_same_seed_and_shuffled_input_give_the_same_splits(config: SplitConfig) -> None:
    cases = _cases(23)
    assert make_splits(cases, config) == make_splits(_shuffled(cases, 1), config)
    other = SplitConfig(config.scheme, folds=config.folds, seed=config.seed + 1)
    assert make_splits(cases, other) != make_splits(cases, config)


def test_replications_are_disjoint_complete_and_sized() -> None:
    cases = _cases(50)
    splits = make_splits(cases, SplitConfig(replications=3, test_fraction=0.2, val_fraction=0.1))
    assert [s.name for s in splits] == ["replication_1", "replication_2", "replication_3"]
    for s in splits:
        parts = [set(s.train), set(s.val), set(s.test)]
        assert sum(map(len, parts)) == len(set().union(*parts)) == 50
        assert (len(s.test), len(s.val), len(s.train)) == (10, 4, 36)
    assert len({s.test for s in splits}) == 3  # the replications differ


def test_splits_are_patient_level() -> None:
    cases = _cases(12, per_patient=3)
    for config in (SplitConfig(), SplitConfig("folds", folds=3)):
        for s in make_splits(cases, config):
            owners = [{cases[c] for c in part} for part in (s.train, s.val, s.test)]
            assert not (owners[0] & owners[1] or owners[0] & owners[2] or owners[1] & owners[2])
            assert len(s.train) % 3 == len(s.val) % 3 == len(s.test) % 3 == 0


def test_folds_test_every_patient_exactly_once() -> None:
    cases = _cases(10)
    splits = make_splits(cases, SplitConfig("folds", folds=3, val_fraction=0.0))
    tested = [c for s in splits for c in s.test]
    assert sorted(tested) == sorted(cases)
    assert sorted(len(s.test) for s in splits) == [3, 3, 4]
    assert all(not s.val for s in splits)


def test_small_cohorts_keep_at_least_one_test_patient() -> None:
    (s,) = make_splits(_cases(3), SplitConfig(replications=1, test_fraction=0.1))
    assert len(s.test) == 1 and len(s.val) == 1 and len(s.train) == 1


@pytest.mark.parametrize(
    ("config", "n", "match"),
    [
        (SplitConfig(test_fraction=1.0), 10, "test-fraction"),
        (SplitConfig(val_fraction=-0.1), 10, "val-fraction"),
        (SplitConfig("folds", folds=11), 10, "folds"),
        (SplitConfig(replications=0), 10, "replications"),
        (SplitConfig(), 1, "at least 2 patients"),
    ],
)
def test_bad_settings_are_clear_errors(config: SplitConfig, n: int, match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_splits(_cases(n), config)


def test_write_and_read_back(tmp_path: Path) -> None:
    config = SplitConfig(seed=9)
    splits = make_splits(_cases(8), config)
    path = write_splits(splits, config, tmp_path / "splits.json", manifest="m.json")
    assert read_splits(path) == splits
    with pytest.raises(OutputExistsError):
        write_splits(splits, config, path)
