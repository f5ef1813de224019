"""The /v1 API over a real uvicorn server: models, jobs, 409 when busy, every bad-input class."""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest

from neurorl.client import BusyError, NotFoundError, TooLargeError, ValidationError


def pats(n, seed=0):
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 144))
    for i in range(n):
        out[i, rng.choice(144, 36, replace=False)] = 1
    return out


def test_model_lifecycle_train_test_step(client):
    client.create_model("m", seed=3)
    assert [m["name"] for m in client.list_models()] == ["m"]
    p = pats(4)
    client.set_patterns("m", p.reshape(4, 6, 2, 3, 4))  # 5-D numpy works too
    np.testing.assert_array_equal(client.get_patterns("m"), p)
    job = client.train("m", max_epochs=3, wait=True)
    assert job["status"] == "succeeded" and job["epochs_done"] == 3
    assert client.model("m")["trained_epochs"] == 3
    res = client.test("m", p[2], target=p[2])
    assert res["closest_index"] == 2 and res["target_distance"] == 0 and res["recall"].shape == (144,)
    st = client.step_model("m", p[:2], p[:2], iterations=2)
    assert st["reward"] == 144.0 and st["rewards_per_cue"] == [144.0, 144.0]
    client.delete_model("m")
    with pytest.raises(NotFoundError, match="no model named 'm'"):
        client.model("m")


def test_busy_model_answers_409_and_others_are_not_blocked(client):
    client.create_model("slow")
    client.create_model("other")
    client.set_patterns("slow", pats(2))
    client.set_patterns("other", pats(2, 1))
    job = client.train("slow", max_epochs=200)  # 200 x 50 ms in the background
    with pytest.raises(BusyError, match=f"busy with job {job['job_id']}"):
        client.test("slow", pats(1)[0])
    with pytest.raises(BusyError):
        client.set_patterns("slow", pats(3))
    with pytest.raises(BusyError):
        client.delete_model("slow")
    t0 = time.perf_counter()
    client.test("other", pats(1, 1)[0])  # a different model answers while "slow" trains
    assert time.perf_counter() - t0 < 5
    cancelled = client.cancel(job["job_id"])
    final = client.wait(cancelled["job_id"], timeout=10)
    assert final["status"] == "cancelled" and 0 < final["epochs_done"] < 200
    client.test("slow", pats(1)[0])  # usable again, weights so far kept
    assert client.model("slow")["trained_epochs"] == final["epochs_done"]


def test_bad_inputs_get_4xx_with_a_reason(client, fake_server):
    client.create_model("b")
    client.set_patterns("b", pats(2))
    h = httpx.Client(base_url=fake_server, timeout=120)
    cases = [
        # wrong shape
        ("put", "/v1/models/b/patterns", {"patterns": [[0, 1] * 10]}, 422, "at least 144"),
        ("post", "/v1/models/b/test", {"cue": [0] * 145}, 422, "at most 144"),
        # non-binary where binary is required
        ("put", "/v1/models/b/patterns", {"patterns": [[0.5] + [0] * 143]}, 422, "binary"),
        ("post", "/v1/models/b/test", {"cue": [2] + [0] * 143}, 422, "binary"),
        # wrong types, unknown fields, strictness
        ("post", "/v1/models", {"name": "x", "seed": "3"}, 422, "valid integer"),
        ("post", "/v1/models", {"name": "x", "sed": 3}, 422, "Extra inputs"),
        ("post", "/v1/models", {"name": "bad name!"}, 422, "pattern"),
        ("post", "/v1/models/b/train", {"max_epochs": 0}, 422, "greater than or equal to 1"),
        ("post", "/v1/models/b/step", {"cues": [[0] * 144], "targets": [[0] * 144] * 2}, 400, "same length"),
        # unknown ids
        ("post", "/v1/models/nope/test", {"cue": [0] * 144}, 404, "no model named 'nope'"),
        ("get", "/v1/jobs/abc123", None, 404, "no job"),
        ("post", "/v1/sessions", {"env_id": "neurorl/Nope-v0"}, 404, "unknown environment id"),
        ("post", "/v1/sessions/0123abcd/step", {"actions": [0]}, 404, "no env session"),
        ("post", "/v1/agents/ghost/act", {"observation": [0.0]}, 404, "no agent"),
        ("post", "/v1/agents", {"source": "no-such-agent"}, 404, "no agent named"),
        # existing name
        ("post", "/v1/models", {"name": "b"}, 409, "already exists"),
    ]
    for method, path, body, status, needle in cases:
        r = getattr(h, method)(path, json=body) if body is not None else getattr(h, method)(path)
        assert r.status_code == status, (path, body, r.text)
        assert needle in r.text, (path, r.text)
    # NaN and infinity in JSON (Python's json writes them) are refused
    for bad in (b"NaN", b"Infinity", b"-Infinity"):
        r = h.post("/v1/models/b/test", content=b'{"cue": [' + bad + b',' + b'0,' * 142 + b'0]}',
                   headers={"content-type": "application/json"})
        assert r.status_code == 422 and "finite" in r.text, r.text
    # malformed JSON
    r = h.post("/v1/models/b/test", content=b'{"cue": [', headers={"content-type": "application/json"})
    assert r.status_code == 422
    # the model's stored patterns survived all of that
    np.testing.assert_array_equal(client.get_patterns("b"), pats(2))
    with pytest.raises(ValidationError, match="binary"):
        client.test("b", np.full(144, 0.5))


def test_size_limit(tmp_path):
    from conftest import live_server
    from fakes import fake_config
    from neurorl.client import Client

    with live_server(fake_config(max_body_bytes=20_000)) as url, Client(url) as c:
        c.create_model("s")
        with pytest.raises(TooLargeError, match="over this server's limit of 20000 bytes"):
            c.set_patterns("s", pats(100))  # about 100 kB of JSON
        # a chunked body without Content-Length is cut off too
        def gen():
            yield b'{"patterns": ['
            for _ in range(200):
                yield b"[" + b"0," * 143 + b"0],"
            yield b"[" + b"0," * 143 + b"0]]}"
        r = httpx.put(url + "/v1/models/s/patterns", content=gen(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        c.set_patterns("s", pats(3))  # small bodies still pass
        assert c.model("s")["num_patterns"] == 3


def test_token_rule_and_cross_site(tmp_path):
    from conftest import live_server
    from fakes import fake_config
    from neurorl.client import AuthError, Client

    with live_server(fake_config(token="s3cret")) as url:
        for path in ("/v1/health", "/v1/models", "/", "/openapi.json", "/web/app.js"):
            r = httpx.get(url + path)
            assert r.status_code == 401 and "bearer token" in r.text
        assert httpx.get(url + "/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        with pytest.raises(AuthError):
            Client(url, token="wrong").health()
        assert Client(url, token="s3cret").health()["status"] == "ok"
        # legacy endpoints are guarded too
        assert httpx.post(url + "/model/train", data={"maxruns": 1, "maxepcs": 1}).status_code == 401
        # the page: ?token= gives a same-site cookie, which then authorises the page's requests
        with httpx.Client(base_url=url, follow_redirects=True) as browser:
            r = browser.get("/?token=s3cret")
            assert r.status_code == 200 and "<title>neurorl</title>" in r.text
            assert browser.get("/v1/models").status_code == 200
        # a request from another site's page is refused even with the token
        r = httpx.post(url + "/v1/models", json={"name": "x"},
                       headers={"Authorization": "Bearer s3cret", "Origin": "http://evil.example"})
        assert r.status_code == 403


def test_checkpoint_download_and_upload(client):
    client.create_model("src", seed=5)
    client.set_patterns("src", pats(3))
    client.train("src", max_epochs=2, wait=True)
    data = client.save_model("src")
    info = client.load_model("copy", data)
    assert info["num_patterns"] == 3 and info["trained_epochs"] == 2 and info["seed"] == 5
    np.testing.assert_array_equal(client.test("copy", pats(3)[1])["recall"], client.test("src", pats(3)[1])["recall"])
    with pytest.raises(ValidationError, match="not a model file"):
        client.load_model("junk", b"not a model")
