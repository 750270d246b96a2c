"""The persistent preprocessed cache: written once, memory-mapped after, nothing decoded again."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from smoothseg.datasets.cache import case_dir, read_array_folder
from smoothseg.datasets.splits import Split
from smoothseg.training import TrainConfig, load_train_config, stage_data
from smoothseg.training.preprocessed import PreprocessedDataset, split_pipeline
from training_data import tiny_cache

CONFIG = """
[model]
name = "unet"
[train]
persistent_cache = true
cache_in_memory = false
[liver]
target_spacing_mm = "keep"
roi_size = [16, 16, 16]
samples_per_volume = 2
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_cache(tmp_path_factory.mktemp("pre"), n_cases=4)


def _config(tmp_path: Path, stage: str = "liver", extra: str = "") -> TrainConfig:
    path = tmp_path / "c.toml"
    path.write_text(CONFIG + extra)
    return load_train_config(stage, preset="cpu-small", config_file=path)


def test_first_pass_writes_then_mmaps_without_decoding(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    ids = ("TINY_001", "TINY_002", "TINY_003")
    split = Split("s", ids, ("TINY_004",), ())
    config = replace(config, cache_dir=str(tmp_path / "pre"))
    data = stage_data(config, cache, split)
    train = data.train
    assert isinstance(train, PreprocessedDataset)
    first = [train[i] for i in range(len(train))]
    assert train.computed == 3 and all(len(samples) == 2 for samples in first)
    folders = sorted(p.parent.name for p in train.root.glob("*/arrays.json"))
    assert folders == list(ids)

    # the cached arrays equal the deterministic pipeline run directly, and come mmapped
    prefix, _ = split_pipeline(train.transform)
    direct = prefix(dict(train.data[0]))
    cached = train.cached_item(0)
    assert isinstance(cached["image"], np.memmap) and not cached["image"].flags.writeable
    np.testing.assert_array_equal(np.asarray(cached["image"]), direct["image"])
    np.testing.assert_array_equal(np.asarray(cached["label"]), direct["label"])
    assert tuple(cached["spacing_mm"]) == tuple(direct["spacing_mm"])

    # a new dataset (next epoch, another rank or run) decodes nothing: loading is impossible
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the prepared case was decoded again")

    monkeypatch.setattr("smoothseg.preprocess.dict_transforms.load_cached_case", no_decoding)
    again = stage_data(config, cache, split).train
    assert isinstance(again, PreprocessedDataset)
    samples = [again[i] for i in range(len(again))]
    assert again.computed == 0
    assert samples[0][0]["image"].shape == (1, 16, 16, 16)
    arrays, record = read_array_folder(train.root / "TINY_001") or ({}, {})
    assert set(arrays) >= {"image", "label", "affine"} and record["source"]
    monkeypatch.undo()

    # a re-prepared case (its case.json changed) is preprocessed again; the others are not
    record_path = case_dir(cache, "TINY_002") / "case.json"
    stat = record_path.stat()
    os.utime(record_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    fresh = stage_data(config, cache, split).train
    assert isinstance(fresh, PreprocessedDataset)
    for i in range(len(fresh)):
        fresh[i]
    assert fresh.computed == 1


def test_in_memory_copy_and_tumor_validation(cache: Path, tmp_path: Path) -> None:
    extra = '[tumor]\ntarget_spacing_mm = "keep"\nroi_size = [16, 16, 16]\n'
    config = _config(tmp_path, "tumor", extra)
    config = replace(config, cache_in_memory=True)
    data = stage_data(config, cache, Split("s", ("TINY_001",), ("TINY_002",), ()))
    val = data.val
    assert isinstance(val, PreprocessedDataset) and val.in_memory
    item = val[0]
    assert set(item) >= {"image", "label", "mask", "case_id"}
    held = val.cached_item(0)
    assert not isinstance(held["image"], np.memmap) and val.cached_item(0) is held
    assert val.root.parent == cache / "preprocessed" and val.root.name.startswith("tumor-val-")
    assert data.train[0][0]["image"].shape == (1, 16, 16, 16)  # random part runs on cached data
