"""Test harnesses for Sinter: running compiled models, comparing outputs,
ONNX node-test conformance, and differential testing against ONNX Runtime and
ONNX's reference evaluator.

  runner        compile a model with sinterc --target=cpu and run the executable
  compare       per-dtype tolerances and the output comparison
  conformance   the ONNX node-test run behind scripts/conformance
  randgraph     the seeded random-graph generator
  differential  run a model in Sinter and in an oracle, save reproducers
"""
