"""MLflow's SQL stores (SQLite ``mlflow.db``, PostgreSQL): MLflow's own schema, read and written with its semantics.

Needs SQLAlchemy 2 (and psycopg 3 for PostgreSQL): the ``sql`` / ``postgres``
extras. Nothing outside this package imports it unless a SQL store is opened,
so the file store works with the four runtime dependencies alone.
"""
