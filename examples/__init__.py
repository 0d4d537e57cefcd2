"""Example applications built on Event Sourcery (run one with ``python -m examples.<name>``)."""
