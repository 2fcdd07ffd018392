from wayfare_common.migrations import run_env
from wayfare_payment.settings import Settings
from wayfare_payment.store.models import Base

run_env(Base.metadata, lambda: Settings().database_url)
