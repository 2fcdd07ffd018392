"""Pure rules of the auth service: no FastAPI, SQLAlchemy or aio-pika in here."""
