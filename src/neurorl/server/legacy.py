"""Wire-compatible endpoints of the original hippocampus server (both API versions).

Source: ../shared/reference/hippocampus.md §1.2 (v1, May 2020: form fields, JSON answers) and §1.3
(v2, Aug 2020: protobuf bodies). The body's Content-Type picks the version: form or JSON bodies are
v1, anything else (the v2 client sends ``application/octet-stream``) is parsed as protobuf.

What is copied on purpose (so unchanged clients get the same answers):
* all three endpoints act on one model (here the ``/v1`` model named ``default``);
* ``PUT /dataset/train/update`` and ``POST /model/train`` start from fresh weights, seeded the same
  every time (``ss.Init()`` with ``rand.Seed(2)``, §1.2 and §1.6 quirk 4);
* ``POST /model/train`` blocks until training ends and answers the elapsed-time text;
* v1 ``Distance`` is the Hamming distance from the rounded recall to the **nearest training
  pattern**, not to the target (§1.2 "Discrepancy", §1.6 quirk 5) and ``ClosestPattern`` is that
  pattern as an etable tensor; v2 answers ``NameError`` with only the raw ECout ActM recall.
What is not copied: the original panicked on a non-binary digit and on malformed bodies; here every
malformed request gets 400 with the reason. The fixed semantics live under ``/v1/models/...``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from google.protobuf.message import DecodeError

from neurorl.server import protobuf as pb
from neurorl.server.errors import APIError, BadRequest
from neurorl.server.hip_backend import closest_pattern
from neurorl.server.schemas import PATTERN_SHAPE, PATTERN_SIZE

LEGACY_MODEL = "default"
LEGACY_SEED = 2  # rand.Seed(2) at every Init (hippocampus.md §1.6 quirk 4)
MAX_FILE_BYTES = 64 * 2**20

router = APIRouter(tags=["legacy (original wire format)"])

_TEXT_400 = {"description": "malformed request; the body says what was expected",
             "content": {"text/plain": {"schema": {"type": "string"}}}}
_FORM_BODY = {
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "source": {"type": "string", "enum": ["body", "file"]},
        "patterns": {"type": "array", "items": {"type": "string"}},
        "shape": {"type": "string"}, "filename": {"type": "string"}}}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
}


def _form_kind(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return "form"
    if ctype == "application/json":
        return "json"
    return "protobuf"


async def _fields(request: Request, kind: str) -> dict[str, list[str]]:
    """v1 fields as lists of strings (Echo binds form, query and JSON keys case-insensitively, §1.2)."""
    out: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        out.setdefault(k.lower(), []).append(v)
    if kind == "form":
        form = await request.form()
        for k, v in form.multi_items():
            if not isinstance(v, str):
                raise BadRequest(f"form field {k!r} must be text, not a file upload")
            out.setdefault(k.lower(), []).append(v)
    elif kind == "json":
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"body is not valid JSON: {e}") from None
        if not isinstance(body, dict):
            raise BadRequest("JSON body must be an object with the v1 field names")
        for k, v in body.items():
            vals = v if isinstance(v, list) and k.lower() == "patterns" else [v]
            out.setdefault(k.lower(), []).extend(x if isinstance(x, str) else json.dumps(x) for x in vals)
    return out


def _one(fields: dict[str, list[str]], name: str) -> str:
    vals = fields.get(name.lower())
    if not vals:
        raise BadRequest(f"missing field {name!r}")
    return vals[-1]


# ------------------------------------------------------------------ parsers (§1.2)
def parse_shape(text: str) -> tuple[int, ...]:
    """``"(6, 2, 3, 4)"`` or ``"[6, 2, 3, 4]"`` (``json.dumps`` of a numpy shape) -> (6, 2, 3, 4)."""
    nums = re.findall(r"-?\d+", text)
    if not nums or re.sub(r"[\s\d,()\[\]-]", "", text):
        raise BadRequest(f"shape {text!r} is not a list of integers such as \"(6, 2, 3, 4)\"")
    shape = tuple(int(n) for n in nums)
    if any(d <= 0 for d in shape) or int(np.prod(shape)) != PATTERN_SIZE:
        raise BadRequest(f"shape {shape} must have positive dimensions whose product is {PATTERN_SIZE} "
                         "(the EC layers are 6x2 pools of 3x4 units)")
    return shape


def parse_pattern(text: str, shape: tuple[int, ...], index: int) -> np.ndarray:
    """The original's bracket parser: '[' or '(' opens a dimension, ']' or ')' closes one, and only the
    single digits 0 and 1 are values (§1.2). Nesting must match ``shape``."""
    values: list[float] = []
    depth, counts = 0, []
    for tok in re.findall(r"[\[\]()]|[^\s,\[\]()]+", text):
        if tok in "[(":
            if depth > 0:
                counts[depth - 1] += 1
            depth += 1
            if depth > len(shape):
                raise BadRequest(f"pattern {index}: nested deeper than shape {shape}")
            if len(counts) < depth:
                counts.append(0)
            counts[depth - 1] = 0
        elif tok in "])":
            if depth == 0:
                raise BadRequest(f"pattern {index}: unbalanced closing bracket")
            if counts[depth - 1] != shape[depth - 1]:
                raise BadRequest(f"pattern {index}: a dimension at depth {depth} has {counts[depth - 1]} entries; "
                                 f"shape {shape} expects {shape[depth - 1]}")
            depth -= 1
        else:
            if tok not in ("0", "1"):
                raise BadRequest(f"pattern {index}: value {tok!r} is not binary; the v1 format accepts only the digits 0 and 1")
            if depth != len(shape):
                raise BadRequest(f"pattern {index}: value {tok} at nesting depth {depth}, expected depth {len(shape)}")
            counts[depth - 1] += 1
            values.append(float(tok))
    if depth != 0:
        raise BadRequest(f"pattern {index}: unbalanced brackets")
    if len(values) != PATTERN_SIZE:
        raise BadRequest(f"pattern {index}: {len(values)} values, expected {PATTERN_SIZE} for shape {shape}")
    return np.asarray(values, np.float32)


def parse_json_pattern(text: str, what: str) -> np.ndarray:
    """v1 testpattern fields: ``json.dumps`` of a nested list (§1.2)."""
    try:
        a = np.asarray(json.loads(text), dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise BadRequest(f"{what} must be a JSON nested list of numbers, e.g. json.dumps(p.tolist()): {e}") from None
    if a.size != PATTERN_SIZE:
        raise BadRequest(f"{what} has {a.size} values; expected {PATTERN_SIZE} (shape {PATTERN_SHAPE})")
    if not np.isfinite(a).all():
        raise BadRequest(f"{what} contains NaN or infinity")
    return a.reshape(PATTERN_SIZE).astype(np.float32)


def read_emergent_table(path: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Emergent etable CSV/TSV (``_H:`` header with ``%Input[4:i,j,k,l]<4:6,2,3,4>`` columns, ``_D:`` rows)
    -> (Input [N,144], ECout [N,144], cell shape). File mode of the original (§1.2, §2.7)."""
    p = Path(path)
    if not p.is_file():
        raise BadRequest(f"training file {path!r} does not exist on the server (filename is a server-side path)")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise BadRequest(f"training file {path!r} is larger than {MAX_FILE_BYTES} bytes")
    text = p.read_text(errors="replace")
    delim = "\t" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    header = next((r for r in rows if r and r[0].strip() == "_H:"), None)
    if header is None:
        raise BadRequest(f"{path!r}: no '_H:' header row (expected an Emergent etable CSV)")
    cols = {"Input": [], "ECout": []}
    shape = None
    for i, h in enumerate(header):
        m = re.match(r"^[%#$^]?(Input|ECout)\[", h.strip())
        if m:
            cols[m.group(1)].append(i)
            tag = re.search(r"<\d+:([\d,]+)>", h)
            if tag and shape is None:
                shape = tuple(int(x) for x in tag.group(1).split(","))
    if len(cols["Input"]) != PATTERN_SIZE or len(cols["ECout"]) != PATTERN_SIZE:
        raise BadRequest(f"{path!r}: expected {PATTERN_SIZE} Input and {PATTERN_SIZE} ECout columns, found "
                         f"{len(cols['Input'])} and {len(cols['ECout'])}")
    data = [r for r in rows if r and r[0].strip() == "_D:"]
    if not data:
        raise BadRequest(f"{path!r}: no '_D:' data rows")
    try:
        inp = np.asarray([[float(r[i]) for i in cols["Input"]] for r in data], np.float32)
        out = np.asarray([[float(r[i]) for i in cols["ECout"]] for r in data], np.float32)
    except (ValueError, IndexError) as e:
        raise BadRequest(f"{path!r}: bad data row: {e}") from None
    if not (np.isfinite(inp).all() and np.isfinite(out).all()):
        raise BadRequest(f"{path!r}: NaN or infinity in the data")
    return inp, out, shape or PATTERN_SHAPE


# ------------------------------------------------------------------ endpoints
def _text(msg: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(msg, status_code=status)


def _legacy_errors(fn):
    """The original answers 400 with the error text (plain), not JSON (§1.2)."""
    import functools

    @functools.wraps(fn)
    async def wrapper(request: Request):
        try:
            return await fn(request)
        except APIError as e:
            return _text(e.message, e.status_code)

    return wrapper


def _apply_dataset(request: Request, inputs: np.ndarray, targets: np.ndarray, shape: tuple[int, ...]) -> None:
    state = request.app.state.neurorl
    state.models.create(LEGACY_MODEL, seed=LEGACY_SEED, legacy=state.legacy_quirks, exist_ok=True)
    with state.models.use(LEGACY_MODEL, wait=True) as entry:
        fresh = state.new_backend(entry.backend.seed, entry.backend.legacy)  # ss.Init(): fresh weights (§1.2)
        fresh.set_patterns(inputs, targets)
        entry.backend = fresh
        entry.extra = {"inputs": inputs, "shape": shape}
        state.models.persist(entry)


@router.put("/dataset/train/update", response_class=PlainTextResponse,
            openapi_extra={"requestBody": {"content": _FORM_BODY, "required": True}},
            responses={400: _TEXT_400, 409: _TEXT_400},
            summary="Replace the training patterns (v1 form / v2 protobuf DatasetUpdate)")
@_legacy_errors
async def dataset_update(request: Request):
    kind = _form_kind(request)
    if kind == "protobuf":
        try:
            msg = pb.DatasetUpdate.FromString(await request.body())
        except DecodeError as e:
            raise BadRequest(f"body is not a protobuf DatasetUpdate message: {e}") from None
        source, filename = msg.source, msg.filename
        if source == "body":
            try:
                a = pb.array_from_tensor(msg.dataset, what="dataset")
            except ValueError as e:
                raise BadRequest(str(e)) from None
            if a.ndim < 2 or int(np.prod(a.shape[1:])) != PATTERN_SIZE:
                raise BadRequest(f"dataset dimensions {list(a.shape)} must be [N, 6, 2, 3, 4] ({PATTERN_SIZE} units per pattern)")
            if not np.isfinite(a).all():
                raise BadRequest("dataset contains NaN or infinity")
            pats = a.reshape(a.shape[0], PATTERN_SIZE).astype(np.float32)  # v2 allows floats (§1.3)
            shape = tuple(int(d) for d in a.shape[1:])
            await _run(request, _apply_dataset, request, pats, pats, shape)
            return _text(f"Training dataset updated from source: {source}")
    else:
        fields = await _fields(request, kind)
        source = _one(fields, "source")
        filename = (fields.get("filename") or [""])[-1]
        if source == "body":
            shape = parse_shape(_one(fields, "shape"))
            texts = fields.get("patterns") or []
            if not texts:
                raise BadRequest("missing field 'patterns' (one string per pattern, the key repeated)")
            pats = np.stack([parse_pattern(t, shape, i) for i, t in enumerate(texts)])
            await _run(request, _apply_dataset, request, pats, pats, shape)
            return _text(f"Training dataset updated from source: {source}")
    if source == "file":
        if not filename:
            raise BadRequest("source 'file' needs the field 'filename' (an Emergent CSV on the server)")
        inp, out, shape = read_emergent_table(filename)
        await _run(request, _apply_dataset, request, inp, out, shape)
        return _text(f"Training dataset updated from source: {source}")
    raise BadRequest(f"source must be 'body' or 'file', got {source!r}")


async def _run(request: Request, fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _train_blocking(request: Request, max_runs: int, max_epochs: int) -> str:
    state = request.app.state.neurorl
    if state.models.get_or_none(LEGACY_MODEL) is None:
        raise BadRequest("no training patterns: PUT /dataset/train/update first")
    with state.models.use(LEGACY_MODEL, wait=True) as entry:
        if len(entry.backend.patterns) == 0:
            raise BadRequest("no training patterns: PUT /dataset/train/update first")
        t0 = time.perf_counter()
        fresh = state.new_backend(entry.backend.seed, entry.backend.legacy)  # ss.Init() before Train (§1.2)
        fresh.set_patterns(entry.extra.get("inputs", entry.backend.patterns), entry.backend.patterns)
        fresh.train(max_runs, max_epochs, should_stop=lambda: state.stopping, on_epoch=lambda e: None)
        entry.backend = fresh
        state.models.persist(entry)
        secs = time.perf_counter() - t0
    return f"Training completed in {secs:f} seconds. Max Runs: {max_runs}, Max Epochs: {max_epochs}"


@router.post("/model/train", response_class=PlainTextResponse,
             openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                 "type": "object", "properties": {"maxruns": {"type": "integer"}, "maxepcs": {"type": "integer"}}}}}}},
             responses={400: _TEXT_400, 409: _TEXT_400},
             summary="Train the legacy model from fresh weights; blocks until done (v1 and v2)")
@_legacy_errors
async def train(request: Request):
    kind = _form_kind(request)
    fields = await _fields(request, kind if kind != "protobuf" else "query-only")
    vals = {}
    for name, hi in (("maxruns", 10), ("maxepcs", 500)):
        raw = _one(fields, name)
        try:
            v = int(raw)
        except ValueError:
            raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
        if not 1 <= v <= hi:
            raise BadRequest(f"{name} must be between 1 and {hi}, got {v}")
        vals[name] = v
    msg = await _run(request, _train_blocking, request, vals["maxruns"], vals["maxepcs"])
    return _text(msg)


def _test_one(request: Request, cue: np.ndarray, target: np.ndarray):
    state = request.app.state.neurorl
    if state.models.get_or_none(LEGACY_MODEL) is None:
        raise BadRequest("no training patterns: PUT /dataset/train/update first")
    with state.models.use(LEGACY_MODEL, wait=True) as entry:
        recall = entry.backend.test(cue, target)
        inputs = entry.extra.get("inputs", entry.backend.patterns)
        shape = entry.extra.get("shape", PATTERN_SHAPE)
        if state.legacy_quirks:
            state.models.persist(entry)  # legacy tests change the network (§1.6 quirk 3)
    return recall, inputs, shape


def _strides(shape) -> list[int]:
    return [int(np.prod(shape[i + 1:])) for i in range(len(shape))]


@router.post("/model/testpattern",
             openapi_extra={"requestBody": {"content": {
                 "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                     "shape": {"type": "string"}, "corruptedPattern": {"type": "string"},
                     "targetPattern": {"type": "string"}}}},
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}, "required": True}},
             responses={200: {"description": "v1: JSON Distance and ClosestPattern; v2: a serialized NameError",
                              "content": {"application/json": {"schema": {"type": "object"}},
                                          "text/html": {"schema": {"type": "string", "format": "binary"}}}},
                        400: _TEXT_400, 409: _TEXT_400},
             summary="Test one corrupted pattern (v1 form -> JSON; v2 protobuf TestItem -> NameError)")
@_legacy_errors
async def testpattern(request: Request):
    kind = _form_kind(request)
    if kind == "protobuf":
        try:
            msg = pb.TestItem.FromString(await request.body())
        except DecodeError as e:
            raise BadRequest(f"body is not a protobuf TestItem message: {e}") from None
        if not msg.HasField("corrupted_pattern"):
            raise BadRequest("TestItem.corrupted_pattern is missing")
        try:
            cue = pb.array_from_tensor(msg.corrupted_pattern, what="corrupted_pattern")
        except ValueError as e:
            raise BadRequest(str(e)) from None
        if cue.size != PATTERN_SIZE or not np.isfinite(cue).all():
            raise BadRequest(f"corrupted_pattern must hold {PATTERN_SIZE} finite values (dimensions [6, 2, 3, 4])")
        cue = cue.reshape(PATTERN_SIZE).astype(np.float32)
        recall, _, _ = await _run(request, _test_one, request, cue, cue)  # v2: Input = ECout = cue (§1.3)
        out = pb.NameError_(version=2, output_pattern=pb.tensor_from_array(
            np.asarray(recall, np.float32).reshape(PATTERN_SHAPE)))
        # Echo's HTMLBlob: the protobuf bytes with a text/html type (§1.3)
        return Response(out.SerializeToString(), media_type="text/html; charset=UTF-8")
    fields = await _fields(request, kind)
    parse_shape(_one(fields, "shape"))
    cue = parse_json_pattern(_one(fields, "corruptedPattern"), "corruptedPattern")
    target = parse_json_pattern(_one(fields, "targetPattern"), "targetPattern")
    recall, inputs, shape = await _run(request, _test_one, request, cue, target)
    i, d = closest_pattern(recall, inputs)
    return Response(json.dumps({"Distance": d, "ClosestPattern": {
        "Shp": list(shape), "Strd": _strides(shape), "Nms": None,
        "Values": [float(x) for x in np.asarray(inputs[i], np.float32)], "Nulls": None, "Meta": None}}),
        media_type="application/json; charset=UTF-8")
