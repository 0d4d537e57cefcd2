"""The Alembic environment of the migration tests, as an application would write it.

It runs on the connection the test puts in ``config.attributes["connection"]``, with no
``render_as_batch``: the shipped migrations must work in an environment that does not set it.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
