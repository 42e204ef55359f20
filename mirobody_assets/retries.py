"""Moved: retry requests live with every other sync-request function."""

from mirobody_assets.storage.sync_requests import MAX_RETRY_ATTEMPTS as MAX_ATTEMPTS
from mirobody_assets.storage.sync_requests import request_retries

__all__ = ["MAX_ATTEMPTS", "request_retries"]
