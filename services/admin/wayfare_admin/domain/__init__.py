"""Pure rules: how each event changes the read models, the audit chain's hashing, and
the dashboard's periods. Nothing here imports FastAPI, SQLAlchemy or aio-pika."""
