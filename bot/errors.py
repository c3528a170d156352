"""Errors that carry the sentence a person will read."""


class UserError(Exception):
    """Bad input. `message` is shown to the person as is; it says what to type instead."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


class ConfigError(Exception):
    """A missing or contradictory setting; the message is one line naming it."""


# What a person reads when the database failed under their request (any face): said as what it is,
# not as a bug with an error id, so they know to try again in a while.
DATABASE_UNREACHABLE = "smx can't reach its database right now; try again in a minute."
DATABASE_FAILED = (
    "smx's database could not do that just now; try again in a minute, and if it keeps "
    "happening, tell whoever runs smx that the database is failing."
)


def database_sentence(err: Exception) -> str:
    """The sentence for a StoreError: unreachable (StoreUnavailable) or failing."""
    from bot.store.base import StoreUnavailable

    return DATABASE_UNREACHABLE if isinstance(err, StoreUnavailable) else DATABASE_FAILED
