"""Pure rules of the payment service: no FastAPI, SQLAlchemy or aio-pika here."""
