"""Read the sizes of a model's embedding tables straight from the ONNX protobuf.

onnxruntime does not expose initializer shapes, and the `onnx` package is only a dev
dependency, so this walks the protobuf wire format itself. It only reads node wiring and
tensor dims and skips the weight bytes, so a large file costs little (it is mmap'd).
Everything here is best effort: None means "could not tell", never an error.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto).
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER = 1, 5
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP = 1, 2, 4
_TENSOR_DIMS, _TENSOR_NAME = 1, 8
# Ops that sit between a stored table and its Gather in quantised or cast graphs.
_PASS_THROUGH = {"Cast", "Mul", "DequantizeLinear", "Identity", "Reshape", "Add", "Sub"}


@dataclass(frozen=True)
class GraphTables:
    vocab_size: int | None  # rows of the table gathered by input_ids
    positions: int | None  # rows of the position embedding table


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield (field, wire type, value or start, end) for each field in buf[start:end]."""
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield field, wire, value, pos
        elif wire == 2:
            size, pos = _varint(buf, pos)
            yield field, wire, pos, pos + size
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:  # groups are not used by ONNX; anything else means a corrupt file
            raise ValueError("unsupported protobuf wire type")
    if pos != end:
        raise ValueError("truncated protobuf message")


def _text(buf: memoryview, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", errors="replace")


def _tensor(buf: memoryview, start: int, end: int) -> tuple[str, list[int]]:
    name, dims = "", []
    for field, wire, a, b in _fields(buf, start, end):
        if field == _TENSOR_NAME and wire == 2:
            name = _text(buf, a, b)
        elif field == _TENSOR_DIMS and wire == 0:
            dims.append(a)
        elif field == _TENSOR_DIMS and wire == 2:  # packed repeated int64
            pos = a
            while pos < b:
                dim, pos = _varint(buf, pos)
                dims.append(dim)
    return name, dims


def _node(buf: memoryview, start: int, end: int) -> tuple[str, list[str], list[str]]:
    op, inputs, outputs = "", [], []
    for field, wire, a, b in _fields(buf, start, end):
        if wire != 2:
            continue
        if field == _NODE_OP:
            op = _text(buf, a, b)
        elif field == _NODE_INPUT:
            inputs.append(_text(buf, a, b))
        elif field == _NODE_OUTPUT:
            outputs.append(_text(buf, a, b))
    return op, inputs, outputs


def _graph(buf: memoryview) -> tuple[dict[str, list[int]], list[tuple[str, list[str], list[str]]]]:
    tables: dict[str, list[int]] = {}
    nodes: list[tuple[str, list[str], list[str]]] = []
    for field, wire, a, b in _fields(buf, 0, len(buf)):
        if field != _MODEL_GRAPH or wire != 2:
            continue
        for gfield, gwire, ga, gb in _fields(buf, a, b):
            if gwire != 2:
                continue
            if gfield == _GRAPH_INITIALIZER:
                name, dims = _tensor(buf, ga, gb)
                tables[name] = dims
            elif gfield == _GRAPH_NODE:
                nodes.append(_node(buf, ga, gb))
    return tables, nodes


def _table_rows(name: str, tables: dict, producers: dict, depth: int = 0) -> tuple[str, int] | None:
    """Follow a Gather's data input back through casts/dequantisation to a 2-D table."""
    dims = tables.get(name)
    if dims is not None:
        return (name, dims[0]) if len(dims) == 2 else None
    node = producers.get(name)
    if node is None or depth > 6 or node[0] not in _PASS_THROUGH:
        return None
    for source in node[1]:
        found = _table_rows(source, tables, producers, depth + 1)
        if found:
            return found
    return None


def read_tables(model_file: Path, ids_input: str = "input_ids") -> GraphTables:
    """Vocabulary and position-table sizes of a transformer graph, where they can be read."""
    try:
        with open(model_file, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                tables, nodes = _graph(view)
            finally:
                view.release()
    except (OSError, ValueError, IndexError):
        return GraphTables(None, None)
    producers = {out: node for node in nodes for out in node[2]}
    # input_ids may be cast (e.g. to int32) before the lookup.
    id_names = {ids_input}
    for op, inputs, outputs in nodes:
        if op == "Cast" and inputs and inputs[0] in id_names:
            id_names.update(outputs)
    vocab = positions = None
    for op, inputs, _ in nodes:
        if op == "EmbedLayerNormalization" and len(inputs) >= 4:  # onnxruntime's fused form
            word, pos = (_table_rows(n, tables, producers) for n in inputs[2:4])
            vocab = word[1] if word else vocab
            positions = pos[1] if pos else positions
            continue
        if op != "Gather" or len(inputs) < 2:
            continue
        found = _table_rows(inputs[0], tables, producers)
        if not found:
            continue
        name, rows = found
        if inputs[1] in id_names and vocab is None:
            vocab = rows
        elif "position" in name.lower() and positions is None:
            positions = rows
    return GraphTables(vocab, positions)
