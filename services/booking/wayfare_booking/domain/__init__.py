"""Pure booking rules: states, references, passengers, pricing, coupons, refunds. Nothing
here imports FastAPI, SQLAlchemy or aio-pika."""
