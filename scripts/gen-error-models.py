#!/usr/bin/env python3
"""Writes the binary ONNX models of the importer's error tests.

The lit tests in test/Import/onnx/errors/ read these files; they are checked
in because lit's %python need not have the onnx package. Graph-level errors
are tested with ONNX text instead (readable, no generator needed); only what
ONNX text (as libonnx 1.12 parses it) cannot express lives here: protobuf
bytes to truncate, initializers with external data, and node names.

Run once after changing it (needs onnx):
  .venv/bin/python scripts/gen-error-models.py
"""

import os

import onnx
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                   "Import", "onnx", "Inputs", "errors")


def add_model(weight: TensorProto) -> onnx.ModelProto:
    """Y = X + W with X, Y float[4] and the initializer W."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "W"], ["Y"], name="add")],
        "add_weight",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4])],
        initializer=[weight],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8,
        producer_name="gen-error-models")
    if weight.data_location != TensorProto.EXTERNAL:
        onnx.checker.check_model(model)
    return model


def unsupported_ops_model() -> onnx.ModelProto:
    """Three named nodes Sinter has no handler for: a com.microsoft op, an op
    no domain defines, and a real ONNX op (strings) Sinter lacks."""
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        [
            helper.make_node("FusedMatMul", ["A", "B"], ["Y"], name="fused",
                             domain="com.microsoft", alpha=1.0),
            helper.make_node("NoSuchOp", ["Y"], ["Z"], name="made_up"),
            helper.make_node("StringNormalizer", ["S"], ["T"],
                             name="normalize", case_change_action="LOWER"),
        ],
        "unsupported",
        [helper.make_tensor_value_info("A", f, [2, 4]),
         helper.make_tensor_value_info("B", f, [4, 3]),
         helper.make_tensor_value_info("S", TensorProto.STRING, [3])],
        [helper.make_tensor_value_info("Z", f, [2, 3]),
         helper.make_tensor_value_info("T", TensorProto.STRING, [3])],
    )
    return helper.make_model(
        graph, ir_version=8, producer_name="gen-error-models",
        opset_imports=[helper.make_opsetid("", 18),
                       helper.make_opsetid("com.microsoft", 1)])


def external_weight(location: str) -> TensorProto:
    """A float[4] initializer whose 16 bytes live in `location`."""
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4])
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"),
                       ("length", "16")):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return t


def save(model: onnx.ModelProto, name: str) -> None:
    # SerializeToString, not onnx.save: onnx.save would try to resolve the
    # external data of these deliberately broken models.
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(model.SerializeToString())


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    inline = helper.make_tensor("W", TensorProto.FLOAT, [4],
                                [1.0, 2.0, 3.0, 4.0])
    save(unsupported_ops_model(), "unsupported_ops.onnx")
    # A well-formed model; the tests cut it short.
    save(add_model(inline), "valid.onnx")
    # External data that is missing, too short, absolute, outside the folder.
    save(add_model(external_weight("missing.bin")), "external_missing.onnx")
    save(add_model(external_weight("external_short.bin")),
         "external_short.onnx")
    with open(os.path.join(OUT, "external_short.bin"), "wb") as f:
        f.write(b"\0" * 10)  # the weight needs 16 bytes
    save(add_model(external_weight("/tmp/weights.bin")),
         "external_absolute.onnx")
    save(add_model(external_weight("../weights.bin")), "external_parent.onnx")
    # `weights.bin` is created by the test, as a symbolic link.
    save(add_model(external_weight("weights.bin")), "external_link.onnx")


if __name__ == "__main__":
    main()
