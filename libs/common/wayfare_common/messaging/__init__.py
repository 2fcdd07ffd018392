"""Reliable messaging over RabbitMQ: topology, a confirming publisher, the transactional
outbox and its relay, the inbox and its consumer, and dead-letter tooling."""
