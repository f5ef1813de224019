"""Load test of ``neurorl serve``: N concurrent clients, each sending test-pattern requests to its own model.

    python benchmarks/server_load.py                      # 50 clients x 200 requests (the issue's target)
    python benchmarks/server_load.py --clients 10 --requests 20   # a quick run

What it does:
1. starts ``neurorl serve`` as a separate process on a free loopback port;
2. every client creates its own model (own seed, own 36-of-144 random patterns), trains it for
   ``--train-epochs`` and asks one reference recall per pattern (sequentially, before the load);
3. all clients then send ``--requests`` ``POST /v1/models/<own>/test`` requests at once (threads,
   one HTTP connection each); every answer must equal that client's reference recall bit for bit:
   any answer computed on another model's weights or patterns counts as cross-talk;
4. the peer: the same clients and requests against ONE shared model through the original
   interface's v2 protobuf endpoint, which serialises everything as the original server's single
   mutex did (hippocampus.md §1.1). Ratio = our throughput / the single-lock throughput.
Prints latency percentiles, errors, cross-talk count and throughput as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def patterns(rng, n):
    out = np.zeros((n, 144), np.float32)
    for i in range(n):
        out[i, rng.choice(144, 36, replace=False)] = 1  # sparsity .75 (hippocampus.md §1.4)
    return out


def percentiles(lat):
    a = np.asarray(lat) * 1000
    return {f"p{q}": round(float(np.percentile(a, q)), 2) for q in (50, 90, 95, 99)} | {"max": round(float(a.max()), 2)}


def run_clients(n_clients, fn):
    results = [None] * n_clients
    barrier = threading.Barrier(n_clients)

    def work(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--patterns", type=int, default=4, help="patterns stored per model")
    ap.add_argument("--train-epochs", type=int, default=1)
    ap.add_argument("--peer-requests", type=int, default=None, help="requests per client in the single-lock peer run "
                                                                    "(default: a quarter of --requests)")
    ap.add_argument("--url", default=None, help="use a running server instead of starting one")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)

    import httpx

    from neurorl.client import Client
    from neurorl.server import protobuf as pb
    from neurorl.utils.provenance import machine_description

    proc = None
    url = args.url
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([sys.executable, "-m", "neurorl.cli", "serve", "--port", str(port),
                                 "--max-models", str(args.clients + 10)], cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        t0 = time.time()
        while True:
            try:
                httpx.get(url + "/v1/health", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.time() - t0 > 180:
                    raise SystemExit("server did not start")
                time.sleep(0.3)
    try:
        rng = np.random.default_rng(0)
        pats = [patterns(rng, args.patterns) for _ in range(args.clients)]
        tag = f"load{os.getpid()}"
        t_setup = time.perf_counter()
        with Client(url, timeout=900) as c:
            for i in range(args.clients):
                c.create_model(f"{tag}-{i}", seed=i)
                c.set_patterns(f"{tag}-{i}", pats[i])
                if args.train_epochs:
                    c.train(f"{tag}-{i}", max_epochs=args.train_epochs)  # background jobs, all models at once
            for job in c._json("GET", "/v1/jobs")["jobs"]:
                if job["model"].startswith(tag):
                    c.wait(job["job_id"], timeout=1800)
            reference = [[c.test(f"{tag}-{i}", p)["recall"] for p in pats[i]] for i in range(args.clients)]
        setup_s = time.perf_counter() - t_setup

        def client_run(i):
            lat, errors, cross = [], [], 0
            with Client(url, timeout=900) as c:
                for k in range(args.requests):
                    p = k % args.patterns
                    t = time.perf_counter()
                    try:
                        r = c.test(f"{tag}-{i}", pats[i][p])
                    except Exception as e:
                        errors.append(repr(e))
                        continue
                    lat.append(time.perf_counter() - t)
                    if not np.array_equal(r["recall"], reference[i][p]):
                        cross += 1
            return lat, errors, cross

        res, wall = run_clients(args.clients, client_run)
        lat = [x for r in res for x in r[0]]
        errors = [e for r in res for e in r[1]]
        ours = {"requests": args.clients * args.requests, "errors": len(errors), "cross_talk": sum(r[2] for r in res),
                "wall_s": round(wall, 2), "throughput_rps": round(len(lat) / wall, 1), "latency_ms": percentiles(lat),
                "first_errors": errors[:3]}

        # peer: one shared model behind one lock (the original server's design), v2 protobuf endpoint
        peer_n = args.peer_requests or max(1, args.requests // 4)
        with Client(url, timeout=900) as c:
            c.update_training_patterns(pats[0].reshape(-1, 6, 2, 3, 4).astype(int))
            c.start_training(maxruns=1, maxepcs=max(1, args.train_epochs))

        def peer_run(i):
            lat, errs = [], 0
            with httpx.Client(base_url=url, timeout=900) as h:
                for k in range(peer_n):
                    body = pb.TestItem(version=2, corrupted_pattern=pb.tensor_from_array(
                        pats[0][k % args.patterns].reshape(6, 2, 3, 4))).SerializeToString()
                    t = time.perf_counter()
                    r = h.post("/model/testpattern", content=body, headers={"content-type": "application/octet-stream"})
                    if r.status_code != 200:
                        errs += 1
                        continue
                    lat.append(time.perf_counter() - t)
            return lat, errs

        pres, pwall = run_clients(args.clients, peer_run)
        plat = [x for r in pres for x in r[0]]
        peer = {"requests": args.clients * peer_n, "errors": sum(r[1] for r in pres), "wall_s": round(pwall, 2),
                "throughput_rps": round(len(plat) / pwall, 1), "latency_ms": percentiles(plat)}
        out = {"benchmark": "server_load", "clients": args.clients, "requests_per_client": args.requests,
               "patterns_per_model": args.patterns, "train_epochs": args.train_epochs, "setup_s": round(setup_s, 1),
               "ours_per_model_locks": ours, "peer_single_lock": peer,
               "throughput_ratio_ours_over_single_lock": round(ours["throughput_rps"] / max(peer["throughput_rps"], 1e-9), 2),
               "machine": machine_description(), "load_average_at_end": os.getloadavg()}
        print(json.dumps(out, indent=2))
        if args.out:
            args.out.write_text(json.dumps(out, indent=2) + "\n")
        return out
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
