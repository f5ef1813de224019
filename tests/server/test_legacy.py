"""The original interface's wire formats (v1 form/JSON, v2 protobuf) against a live server."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests

from original_client import HipAPIv1, HipAPIv2, corrupt_pattern, make_patterns, memory_vs_pattern_count
from neurorl.server import protobuf as pb


def api_for(url, cls=HipAPIv1):
    u = urlsplit(url)
    return cls(f"{u.scheme}://{u.hostname}", str(u.port))


def test_v1_experiment_runs_unchanged(fake_server):
    api = api_for(fake_server)
    pats = make_patterns(6, rng=np.random.default_rng(1))
    r, ok = api.update_training_data_patterns(pats[:2])
    assert ok and r.text == "Training dataset updated from source: body"
    r, ok = api.start_training(maxruns=1, maxepcs=2)
    assert ok and r.text.startswith("Training completed in ") and r.text.endswith("Max Runs: 1, Max Epochs: 2")
    r, ok = api.test_pattern(corrupt_pattern(pats[1], 0.5), pats[1])
    body = r.json()
    assert set(body) == {"Distance", "ClosestPattern"}
    cp = body["ClosestPattern"]
    assert cp["Shp"] == [6, 2, 3, 4] and cp["Strd"] == [24, 12, 4, 1]
    assert cp["Nms"] is None and cp["Nulls"] is None and cp["Meta"] is None and len(cp["Values"]) == 144
    assert cp["Values"] == pats[1].reshape(-1).tolist() and body["Distance"] == 0
    # the fake completes perfectly: every condition and ratio recalls everything
    res = memory_vs_pattern_count(api, pats, 2, 6, 2, trials=1, training_epochs=1, ratios=[0.0, 0.5, 0.9])
    np.testing.assert_array_equal(res, np.ones((3, 3)))
    assert api.step(pats[:2], pats[:2], 2) == 144.0
    # the legacy model is also visible through /v1
    info = requests.get(fake_server + "/v1/models/default").json()
    assert info["num_patterns"] == 6 and info["seed"] == 2


def test_v1_distance_is_to_the_nearest_training_pattern_not_the_target(fake_server):
    """hippocampus.md §1.2 'Discrepancy' kept on the old endpoint; /v1/models/.../test gives both."""
    api = api_for(fake_server)
    pats = make_patterns(2, rng=np.random.default_rng(2))
    api.update_training_data_patterns(pats)
    api.start_training(maxepcs=1)
    r, _ = api.test_pattern(pats[0], pats[1])  # cue 0, "target" 1
    assert r.json()["Distance"] == 0 and r.json()["ClosestPattern"]["Values"] == pats[0].reshape(-1).tolist()
    fixed = requests.post(fake_server + "/v1/models/default/test",
                          json={"cue": pats[0].reshape(-1).tolist(), "target": pats[1].reshape(-1).tolist()}).json()
    assert fixed["closest_distance"] == 0 and fixed["target_distance"] > 0


def test_v2_protobuf(fake_server):
    api = api_for(fake_server, HipAPIv2)
    pats = np.stack(make_patterns(3, rng=np.random.default_rng(3))).astype(float)
    pats[0, 0, 0, 0, 0] = 0.5  # v2 allows floats (§1.3)
    r, ok = api.update_training_data_patterns(pats)
    assert ok and r.text == "Training dataset updated from source: body"
    r, ok = api.start_training(maxepcs=1)
    assert ok
    out, ok = api.test_pattern(pats[2])
    assert ok and out.shape == (6, 2, 3, 4)
    np.testing.assert_allclose(out, pats[2] * 0.9, atol=1e-6)  # the fake's recall
    r = requests.post(fake_server + "/model/testpattern", data=pb.TestItem(version=2).SerializeToString(),
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and "corrupted_pattern is missing" in r.text
    msg = pb.NameError_.FromString(requests.post(
        fake_server + "/model/testpattern",
        data=pb.TestItem(version=2, corrupted_pattern=pb.tensor_from_array(pats[1])).SerializeToString(),
        headers={"Content-Type": "application/octet-stream"}).content)
    assert msg.version == 2 and list(msg.output_pattern.dimensions) == [6, 2, 3, 4]


def test_file_mode(fake_server, tmp_path):
    """Emergent CSV (``_H:`` header, ``%Input[4:...]<4:6,2,3,4>`` columns, ``_D:`` rows), Input may differ from ECout."""
    pats = np.stack(make_patterns(3, rng=np.random.default_rng(4))).reshape(3, 144)
    cues = pats.copy()
    cues[:, :72] = 0
    idx = [f"{a},{b},{c},{d}" for a in range(6) for b in range(2) for c in range(3) for d in range(4)]
    # Emergent quotes the tensor column names (they hold commas), e.g. "%Input[4:0,0,0,0]<4:6,2,3,4>"
    head = ["_H:", "$Name"] + [f'"%Input[4:{i}]' + ("<4:6,2,3,4>" if k == 0 else "") + '"' for k, i in enumerate(idx)] \
        + [f'"%ECout[4:{i}]' + ("<4:6,2,3,4>" if k == 0 else "") + '"' for k, i in enumerate(idx)]
    rows = [",".join(head)] + [",".join(["_D:", f"ab_{n}"] + [str(int(v)) for v in cues[n]] + [str(int(v)) for v in pats[n]])
                               for n in range(3)]
    f = tmp_path / "train.csv"
    f.write_text("\n".join(rows) + "\n")
    api = api_for(fake_server)
    r, ok = api.update_training_data_file(str(f))
    assert ok and r.text == "Training dataset updated from source: file", r.text
    np.testing.assert_array_equal(np.asarray(requests.get(fake_server + "/v1/models/default/patterns").json()["patterns"]), pats)
    r, ok = api.update_training_data_file(str(tmp_path / "missing.csv"))
    assert r.status_code == 400 and "does not exist" in r.text


@pytest.mark.parametrize("data, needle", [
    ({"source": "body", "shape": "(6, 2, 3, 4)", "patterns": ["(" * 4 + "2" + ")" * 4]}, "not binary"),
    ({"source": "body", "shape": "(6, 2, 3, 4)", "patterns": ["((0, 1))"]}, "expected depth 4"),
    ({"source": "body", "shape": "(6, 2, 3, 4)", "patterns": ["((((0, 1))))"]}, "shape (6, 2, 3, 4) expects 4"),
    ({"source": "body", "shape": "(5, 5)", "patterns": ["(0)"]}, "product is 144"),
    ({"source": "body", "shape": "(6, 2, 3, 4)"}, "missing field 'patterns'"),
    ({"source": "ftp"}, "source must be 'body' or 'file'"),
    ({"source": "file"}, "needs the field 'filename'"),
])
def test_v1_dataset_errors(fake_server, data, needle):
    r = requests.put(fake_server + "/dataset/train/update", data=data)
    assert r.status_code == 400 and needle in r.text, r.text
    assert r.headers["content-type"].startswith("text/plain")


def test_legacy_errors_train_and_test(fake_server):
    zeros = json.dumps(np.zeros((6, 2, 3, 4), int).tolist())
    r = requests.post(fake_server + "/model/testpattern", data={"shape": "[6,2,3,4]", "corruptedPattern": zeros,
                                                                "targetPattern": zeros})
    assert r.status_code == 400 and "PUT /dataset/train/update first" in r.text
    r = requests.post(fake_server + "/model/testpattern", data={"shape": "[6,2,3,4]", "corruptedPattern": "[0]",
                                                                "targetPattern": zeros})
    assert r.status_code == 400 and "expected 144" in r.text
    requests.put(fake_server + "/dataset/train/update", data={
        "source": "body", "shape": "(6, 2, 3, 4)", "patterns": [json.dumps(make_patterns(1)[0].tolist())]})
    for data, needle in [({"maxruns": 1}, "missing field 'maxepcs'"), ({"maxruns": "x", "maxepcs": 2}, "integer"),
                         ({"maxruns": 1, "maxepcs": 0}, "between 1 and")]:
        r = requests.post(fake_server + "/model/train", data=data)
        assert r.status_code == 400 and needle in r.text
    r = requests.post(fake_server + "/model/testpattern", data={"shape": "[6,2,3,4]", "corruptedPattern": "[NaN]",
                                                                "targetPattern": "[0]"})
    assert r.status_code == 400
    r = requests.put(fake_server + "/dataset/train/update", data=b"\xff\xff garbage",
                     headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and "not a protobuf DatasetUpdate" in r.text
