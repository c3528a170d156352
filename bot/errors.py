"""Errors that carry the sentence a person will read."""


class UserError(Exception):
    """Bad input. `message` is shown to the person as is; it says what to type instead."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


class ConfigError(Exception):
    """A missing or contradictory setting; the message is one line naming it."""
