from wayfare_auth.settings import Settings
from wayfare_auth.store.models import Base
from wayfare_common.migrations import run_env

run_env(Base.metadata, lambda: Settings().database_url)
