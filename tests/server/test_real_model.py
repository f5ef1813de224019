"""The server with the real hippocampus model: the original client's experiment, concurrency without
cross-talk, and persistence across a restart. One module-scoped server: the model compiles once."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import numpy as np
import pytest

from conftest import live_server
from original_client import HipAPIv1, HipAPIv2, corrupt_pattern, make_patterns, memory_vs_pattern_count
from neurorl.server.app import ServerConfig
from neurorl.server.hip_backend import CoreHippocampus, closest_pattern


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def server(state_dir):
    with live_server(ServerConfig(state_dir=state_dir)) as url:
        yield url


def in_process_condition(patterns, epochs, ratios):
    """One condition of the experiment with the in-process API, ``HippocampusModel`` (legacy endpoint
    semantics: fresh weights with seed 2, hippocampus.md §1.2 / §1.6 quirk 4)."""
    from neurorl.hippocampus.model import HippocampusModel

    cur = np.stack(patterns).reshape(len(patterns), 144).astype(np.float32)
    m = HippocampusModel(seed=2)
    m.set_patterns(cur)
    m.train(epochs=epochs)
    rows, recalls = [], {}
    for r in ratios:
        hits = []
        for i, p in enumerate(patterns):
            out = m.test(corrupt_pattern(p, r).reshape(144), p.reshape(144))
            hits.append(out["closest_index"] == i)
            recalls[(r, i)] = out["recall"].reshape(144)
        rows.append(np.mean(hits))
    return np.asarray(rows), recalls


def test_original_experiment_matches_in_process(server):
    u = urlsplit(server)
    api = HipAPIv1(f"http://{u.hostname}", str(u.port))
    pats = make_patterns(4, rng=np.random.default_rng(0))
    ratios = [0.0, 0.5]
    served = memory_vs_pattern_count(api, pats, 2, 4, 2, trials=1, training_epochs=2, ratios=ratios)
    assert served[:, 0].min() >= 0.5  # full cues of a trained list are mostly recalled (chance is 1/n)
    # the last condition (4 patterns) is what the server's legacy model now holds: compare it with
    # HippocampusModel in this process (one compilation of its training program)
    local, recalls = in_process_condition(pats, 2, ratios)
    np.testing.assert_array_equal(served[-1], local)
    # v2 (protobuf) answers the raw recall: the same numbers as the in-process model's
    v2 = HipAPIv2(f"http://{u.hostname}", str(u.port))
    for i in (0, 3):
        out, ok = v2.test_pattern(corrupt_pattern(pats[i], 0.5))
        assert ok
        np.testing.assert_allclose(out.reshape(144), recalls[(0.5, i)], atol=1e-3)


def test_concurrent_clients_on_their_own_models_no_cross_talk(server):
    from neurorl.client import Client

    n_clients, n_requests = 6, 8
    pats = {i: np.stack(make_patterns(3, rng=np.random.default_rng(100 + i))).reshape(3, 144) for i in range(n_clients)}
    with Client(server, timeout=300) as c:
        for i in range(n_clients):
            c.create_model(f"cc{i}", seed=i)
            c.set_patterns(f"cc{i}", pats[i])
    expected = {}
    for i in range(n_clients):
        m = CoreHippocampus(i)
        m.set_patterns(pats[i])
        expected[i] = [m.test(pats[i][k % 3]) for k in range(n_requests)]
    errors, mismatches = [], []

    def worker(i):
        try:
            with Client(server, timeout=300) as c:
                for k in range(n_requests):
                    got = c.test(f"cc{i}", pats[i][k % 3])
                    if not np.allclose(got["recall"], expected[i][k], atol=1e-6):
                        mismatches.append((i, k))
        except Exception as e:  # collected and reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and mismatches == []


def test_models_survive_a_restart(server, state_dir):
    from neurorl.client import Client

    p = np.stack(make_patterns(3, rng=np.random.default_rng(9))).reshape(3, 144)
    with Client(server, timeout=300) as c:
        c.create_model("keep", seed=4)
        c.set_patterns("keep", p)
        c.train("keep", max_epochs=1, wait=True, timeout=300)
        before = c.test("keep", p[0])["recall"]
        info = c.model("keep")
    # a second server on the same state folder (the first one keeps running: files are the contract)
    with live_server(ServerConfig(state_dir=state_dir)) as url2, Client(url2, timeout=300) as c2:
        names = [m["name"] for m in c2.list_models()]
        assert "keep" in names and "default" in names  # the legacy model of the experiment too
        again = c2.model("keep")
        assert again["trained_epochs"] == info["trained_epochs"] == 1 and again["num_patterns"] == 3
        np.testing.assert_array_equal(c2.get_patterns("keep"), p)
        np.testing.assert_allclose(c2.test("keep", p[0])["recall"], before, atol=1e-6)
