"""Backend-specific tests: rules of one backend beyond the shared contract suite."""
