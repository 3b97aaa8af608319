"""Model registry and tooling: what an ONNX detector file is (spec), where models live (registry), exporting
them with Ultralytics on a workstation (export) and the manifest that travels with each (manifest).

Model files themselves are never committed; tests read ../shared/models.
"""
