import numpy as np
import pytest

from neurorl.utils.atomic import atomic_write_text
from neurorl.utils.checkpoint import load_checkpoint, save_checkpoint
from neurorl.utils.runs import RunDir


def test_checkpoint_round_trip_and_provenance(tmp_path):
    tree = {"a": np.arange(3.0), "b": {"c": np.ones((2, 2), np.float32)}}
    save_checkpoint(tmp_path / "x.ckpt", tree, {"note": "hi"})
    back, meta = load_checkpoint(tmp_path / "x.ckpt")
    np.testing.assert_array_equal(back["b"]["c"], tree["b"]["c"])
    assert meta["note"] == "hi" and "jax" in meta["provenance"]["versions"]
    assert not list(tmp_path.glob(".*tmp")), "no temporary files left behind"


def test_corrupt_or_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.ckpt")
    atomic_write_text(tmp_path / "bad.ckpt", "not msgpack at all")
    with pytest.raises(ValueError, match="checkpoint"):
        load_checkpoint(tmp_path / "bad.ckpt")


def test_run_folder_records_config_and_resume_history(tmp_path):
    run = RunDir.create("exp", {"lr": 1}, path=tmp_path / "r", seed=3)
    info = run.read_info()
    assert info["experiment"] == "exp" and info["seed"] == 3 and info["config"] == {"lr": 1}
    assert "versions" in info["provenance"]
    run2 = RunDir.create("exp", {"lr": 1}, path=tmp_path / "r", seed=3)
    assert len(run2.read_info()["starts"]) == 2
    m = run.metrics("m.csv")
    m.append({"update": 1, "x": 0.5})
    m.append({"update": 2, "x": 0.7})
    m.truncate_after("update", 1)
    assert [r["x"] for r in m.read()] == ["0.5"]
    with pytest.raises(FileNotFoundError):
        RunDir.open(tmp_path / "nothing")
