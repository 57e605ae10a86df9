"""One error hierarchy for the project. Channel boundaries catch these, log, answer and keep serving."""


class TiengDanError(Exception):
    """Base of every error we raise on purpose."""


class ConfigError(TiengDanError):
    """Settings are missing or contradict each other."""


class NotFound(TiengDanError):
    """A case, poll, area or user does not exist."""


class Forbidden(TiengDanError):
    """The actor may not do this (role or jurisdiction)."""


class InvalidInput(TiengDanError):
    """User or API input that we refuse, with a reason fit to show."""


class MediaRejected(InvalidInput):
    """A file too large or not of an accepted type."""


class Conflict(TiengDanError):
    """A concurrent change won (optimistic version mismatch) or a uniqueness rule was hit."""


class SendError(TiengDanError):
    """A channel could not deliver a message."""


class RetryLater(SendError):
    """Transient failure (429, 5xx, network). `retry_after` seconds, when the platform says."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """The platform refused for good (blocked bot, unknown user, bad request)."""


class WindowClosed(SendError):
    """Zalo: the user's interaction window is closed; keep the message for their next visit."""
