"""Typed errors raised by providers. Messages never carry tokens or client secrets."""

from __future__ import annotations


class ProviderError(Exception):
    """Base class of every error a provider raises."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ProviderDisabledError(ProviderError):
    """The provider is registered but disabled (e.g. no client credentials configured)."""


class UnknownProviderError(ProviderError):
    """No provider with this slug is registered."""


class OAuthFlowError(ProviderError):
    """The vendor refused an OAuth step (bad code, state mismatch, spent refresh token...)."""

    def __init__(self, provider: str, message: str, error: str | None = None) -> None:
        super().__init__(provider, message)
        self.error = error


class ReconnectRequiredError(OAuthFlowError):
    """The refresh token is spent or revoked: the user must link the provider again."""


class VendorHTTPError(ProviderError):
    """A vendor API call failed after retries (status kept, body never echoed)."""

    def __init__(self, provider: str, message: str, status_code: int | None = None) -> None:
        super().__init__(provider, message)
        self.status_code = status_code


class RateLimitedError(VendorHTTPError):
    """The vendor kept answering 'too many requests' beyond the wait budget."""

    def __init__(self, provider: str, message: str, retry_after: float | None) -> None:
        super().__init__(provider, message, status_code=429)
        self.retry_after = retry_after


class TokenStoreError(ProviderError):
    """A rotated token could not be persisted, so it was not used."""


class UnknownPayloadShapeError(ProviderError):
    """A raw payload does not match the declared shape of its record type."""

    def __init__(self, provider: str, record_type: str, message: str) -> None:
        super().__init__(provider, f"{record_type}: {message}")
        self.record_type = record_type


class RecordFormatError(UnknownPayloadShapeError):
    """Records of one type that cannot be formatted. `field` is the payload path at fault
    (None when it could not be told), `reason` a short category, `record_ids` the vendor ids
    of the records at fault when known (empty: the batch as a whole)."""

    def __init__(
        self,
        provider: str,
        record_type: str,
        message: str,
        *,
        field: str | None = None,
        reason: str = "format_error",
        record_ids: tuple[str, ...] = (),
    ) -> None:
        super().__init__(provider, record_type, message)
        self.field = field
        self.reason = reason
        self.record_ids = record_ids
        self.detail = message


class UnknownRecordTypeError(ProviderError):
    """A raw record carries a record type the provider has no mapping for."""


class WebhookVerificationError(ProviderError):
    """A webhook's signature is missing, stale or wrong."""


class WebhookPayloadError(ProviderError):
    """A webhook body is not in the vendor's documented shape."""


class SyncRequestError(ProviderError):
    """A sync request names nothing this provider can fetch."""
