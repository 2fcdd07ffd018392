from wayfare_common.migrations import run_env
from wayfare_notification.settings import Settings
from wayfare_notification.store.models import Base

run_env(Base.metadata, lambda: Settings().database_url)
