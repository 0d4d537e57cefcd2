"""The behaviour contract every backend passes (one module per SPEC area)."""
