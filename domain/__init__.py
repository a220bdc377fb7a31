"""The business core: models, stages, error type names, catalog, policy and ETA maths.

Pure and deterministic: no Temporal, no I/O beyond reading the packaged catalog once at import,
so every module here is safe to pass through the workflow sandbox.
"""
