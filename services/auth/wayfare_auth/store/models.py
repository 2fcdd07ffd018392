from sqlalchemy.orm import DeclarativeBase

from wayfare_common.db import new_metadata


class Base(DeclarativeBase):
    """Base of the auth service's tables (the outbox and inbox come from wayfare_common)."""

    metadata = new_metadata()
