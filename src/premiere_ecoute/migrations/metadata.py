"""Every table, gathered for Alembic (``env.py``) and the schema test."""

from premiere_ecoute.accounts import models as accounts_models
from premiere_ecoute.core import event_store, inbox, jobs
from premiere_ecoute.core.orm import Base
from premiere_ecoute.discography import models as discography_models
from premiere_ecoute.sessions import models as sessions_models
from premiere_ecoute.sessions.charts import models as charts_models

metadata = Base.metadata
__all__ = [
    "accounts_models",
    "charts_models",
    "discography_models",
    "event_store",
    "inbox",
    "jobs",
    "metadata",
    "sessions_models",
]
