"""Every table, imported in one place for Alembic's metadata."""

from premiere_ecoute.accounts import models as accounts_models
from premiere_ecoute.core import event_store, inbox
from premiere_ecoute.core.orm import Base
from premiere_ecoute.discography import models as discography_models
from premiere_ecoute.jobs import queue
from premiere_ecoute.sessions import models as sessions_models

metadata = Base.metadata
__all__ = [
    "accounts_models",
    "discography_models",
    "event_store",
    "inbox",
    "metadata",
    "queue",
    "sessions_models",
]
