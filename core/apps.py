from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares and no app owns: accounts that hold (tokens, two-factor, lockout
    responses, the trusted client address) and the deploy checks that keep them honest."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import checks, mfa  # noqa: F401 - registers the deploy check and the built-in rule
