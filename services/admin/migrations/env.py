from wayfare_admin.settings import Settings
from wayfare_admin.store.models import Base
from wayfare_common.migrations import run_env

run_env(Base.metadata, lambda: Settings().database_url)
