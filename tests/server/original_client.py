"""A stand-in for the original Python client (``HipAPI``, v1 and v2) and its demo experiment.

The original code is not in this repository; this is written from the wire description in
../shared/reference/hippocampus.md §1.2-1.4 so that the server is exercised by exactly the HTTP
calls an unchanged original client makes: ``requests`` with form-encoded dicts (v1), protobuf bodies
sent as ``application/octet-stream`` (v2), ``http://localhost:1323`` style URLs, ``(response, ok)`` returns.
"""

from __future__ import annotations

import json

import numpy as np
import requests

from neurorl.server import protobuf as pb


class HipAPIv1:
    def __init__(self, server_url: str = "http://localhost", port: str = "1323"):
        self.server_url, self.port = server_url, port

    def url(self, endpoint: str) -> str:
        return self.server_url + ":" + self.port + endpoint

    def request(self, verb, endpoint, data):
        r = requests.request(verb, url=self.url(endpoint), data=data)
        return r, r.ok

    def update_training_data_patterns(self, patterns):
        # each pattern: json.dumps of the nested list with [ ] replaced by ( ); shape: json.dumps(shape) (§1.3 v1)
        data = {"source": "body",
                "patterns": [json.dumps(p.tolist()).replace("[", "(").replace("]", ")") for p in patterns],
                "shape": json.dumps(patterns[0].shape)}
        return self.request("PUT", "/dataset/train/update", data)

    def update_training_data_file(self, filename):
        return self.request("PUT", "/dataset/train/update", {"source": "file", "filename": filename})

    def test_pattern(self, corrupted, target):
        data = {"shape": json.dumps(corrupted.shape), "corruptedPattern": json.dumps(corrupted.tolist()),
                "targetPattern": json.dumps(target.tolist())}
        return self.request("POST", "/model/testpattern", data)

    def start_training(self, maxruns=1, maxepcs=50):
        return self.request("POST", "/model/train", {"maxruns": maxruns, "maxepcs": maxepcs})

    def step(self, cues, targets, iterations):
        # reward = cue.size - Distance; one scalar mean over everything (§1.3 "Python client v1")
        rewards = np.zeros((iterations, len(cues)))
        for i in range(iterations):
            for j, (c, t) in enumerate(zip(cues, targets)):
                r, _ = self.test_pattern(c, t)
                rewards[i, j] = c.size - r.json()["Distance"]
        return np.mean(rewards)


class HipAPIv2(HipAPIv1):
    def update_training_data_patterns(self, patterns):
        a = np.asarray(patterns)
        msg = pb.DatasetUpdate(version=1, source="body",
                               dataset=pb.Tensor(version=1, dimensions=list(a.shape), data=a.ravel().tolist()))
        r = requests.put(self.url("/dataset/train/update"), data=msg.SerializeToString(),
                         headers={"Content-Type": "application/octet-stream"})
        return r, r.ok

    def test_pattern(self, corrupted):
        a = np.asarray(corrupted)
        msg = pb.TestItem(version=2, corrupted_pattern=pb.Tensor(version=1, dimensions=list(a.shape),
                                                                 data=a.ravel().tolist()))
        r = requests.post(self.url("/model/testpattern"), data=msg.SerializeToString(),
                          headers={"Content-Type": "application/octet-stream"})
        if not r.ok:
            return r, False
        out = pb.NameError_.FromString(r.content).output_pattern
        return np.asarray(out.data).reshape(list(out.dimensions)), True


def corrupt_pattern(pattern, ratio):
    """First int(sum * ratio) active units, in C order, switched off (§1.4 CorruptPattern)."""
    out = pattern.copy()
    k = int(np.sum(out) * ratio)
    flat = out.reshape(-1)
    on = np.flatnonzero(flat == 1)[:k]
    flat[on] = 0
    return out


def make_patterns(n, sparsity=0.75, shape=(6, 2, 3, 4), rng=None):
    """np.ones(144, int), first int(144 * sparsity) set to 0, shuffled (§1.4)."""
    rng = rng or np.random.default_rng(0)
    total = int(np.prod(shape))
    pats = []
    for _ in range(n):
        p = np.ones(total, dtype=int)
        p[: int(total * sparsity)] = 0
        rng.shuffle(p)
        pats.append(p.reshape(shape))
    return pats


def memory_vs_pattern_count(api, patterns, min_patterns, max_patterns, step, trials, training_epochs, ratios):
    """MemoryVsPatternCount of the v1 experiment (§1.4): results[c, r] = mean over trials of success rate."""
    n_cond = (max_patterns - min_patterns) // step + 1
    results = np.zeros((n_cond, len(ratios)))
    for c in range(n_cond):
        current = patterns[: min_patterns + step * c]
        r, ok = api.update_training_data_patterns(current)
        assert ok, r.text
        r, ok = api.start_training(maxepcs=training_epochs)
        assert ok, r.text
        for ri, ratio in enumerate(ratios):
            for _ in range(trials):
                hits = 0
                for p in current:
                    resp, ok = api.test_pattern(corrupt_pattern(p, ratio), p)
                    assert ok, resp.text
                    hits += resp.json()["ClosestPattern"]["Values"] == p.reshape(-1).tolist()
                results[c, ri] += hits / len(current)
        results[c] /= trials
    return results
