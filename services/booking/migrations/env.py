from wayfare_booking.settings import Settings
from wayfare_booking.store.models import Base
from wayfare_common.migrations import run_env

run_env(Base.metadata, lambda: Settings().database_url)
