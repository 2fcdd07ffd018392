from wayfare_common.migrations import run_env
from wayfare_flight.settings import Settings
from wayfare_flight.store.models import Base

run_env(Base.metadata, lambda: Settings().database_url)
