"""The Django backend's own tests: the app, its models, migrations and system checks."""
