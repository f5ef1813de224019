"""The original interface's protobuf messages (proto3, package ``hipmodel``), built at import time.

Field names and numbers: ../shared/reference/hippocampus.md §1.3 ([IF-HEAD] ``proto/*.proto``)::

    Tensor        { uint32 version=1; repeated uint32 dimensions=2; repeated double data=3 [packed] }
    DatasetUpdate { uint32 version=1; string source=2; Tensor dataset=3; string filename=4 }
    TestItem      { uint32 version=1; Tensor corrupted_pattern=2; Tensor target_pattern=3 [deprecated] }
    NameError     { uint32 version=1; float distance=2 [deprecated]; Tensor output_pattern=3 }

No ``protoc`` step: the file descriptor is written with ``descriptor_pb2`` and the classes come from
``message_factory``, so the wire format is exactly what the Go server and ``pyhip/api.py`` exchange.
"""

from __future__ import annotations

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto

# (name, number, type, label, type_name)
_MESSAGES = {
    "Tensor": [
        ("version", 1, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, None),
        ("dimensions", 2, _F.TYPE_UINT32, _F.LABEL_REPEATED, None),
        ("data", 3, _F.TYPE_DOUBLE, _F.LABEL_REPEATED, None),
    ],
    "DatasetUpdate": [
        ("version", 1, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, None),
        ("source", 2, _F.TYPE_STRING, _F.LABEL_OPTIONAL, None),
        ("dataset", 3, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".hipmodel.Tensor"),
        ("filename", 4, _F.TYPE_STRING, _F.LABEL_OPTIONAL, None),
    ],
    "TestItem": [
        ("version", 1, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, None),
        ("corrupted_pattern", 2, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".hipmodel.Tensor"),
        ("target_pattern", 3, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".hipmodel.Tensor"),
    ],
    "NameError": [
        ("version", 1, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, None),
        ("distance", 2, _F.TYPE_FLOAT, _F.LABEL_OPTIONAL, None),
        ("output_pattern", 3, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".hipmodel.Tensor"),
    ],
}
_DEPRECATED = {("TestItem", "target_pattern"), ("NameError", "distance")}


def _build():
    fd = descriptor_pb2.FileDescriptorProto(name="neurorl_hipmodel.proto", package="hipmodel", syntax="proto3")
    for msg_name, fields in _MESSAGES.items():
        m = fd.message_type.add(name=msg_name)
        for name, number, ftype, label, type_name in fields:
            f = m.field.add(name=name, number=number, type=ftype, label=label, json_name=_camel(name))
            if type_name:
                f.type_name = type_name
            if (msg_name, name) in _DEPRECATED:
                f.options.deprecated = True
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"hipmodel.{n}")) for n in _MESSAGES}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


_CLASSES = _build()
Tensor = _CLASSES["Tensor"]
DatasetUpdate = _CLASSES["DatasetUpdate"]
TestItem = _CLASSES["TestItem"]
NameError_ = _CLASSES["NameError"]  # "NameError" would shadow the Python builtin


def tensor_from_array(a, version: int = 1):
    """``Tensor`` of a numpy array: dimensions = shape, data = C-order flattening (§1.3)."""
    a = np.asarray(a, dtype=np.float64)
    return Tensor(version=version, dimensions=[int(d) for d in a.shape], data=a.ravel(order="C").tolist())


def array_from_tensor(t, *, what: str = "tensor") -> np.ndarray:
    """Numpy array of a ``Tensor``; raises ``ValueError`` when dimensions and data disagree."""
    dims = [int(d) for d in t.dimensions]
    data = np.asarray(t.data, dtype=np.float64)
    if not dims:
        raise ValueError(f"{what}: dimensions are empty; expected e.g. [N, 6, 2, 3, 4]")
    if int(np.prod(dims)) != data.size:
        raise ValueError(f"{what}: dimensions {dims} hold {int(np.prod(dims))} values but data has {data.size}")
    return data.reshape(dims)
