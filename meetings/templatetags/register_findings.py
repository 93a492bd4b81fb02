from typing import Any

from django import template

from meetings.register_errors import RegisterError, register_error_text

register = template.Library()


@register.filter
def register_error(finding: RegisterError | dict[str, Any] | str) -> str:
    """A register check's finding ("line 3: missing email") in the reader's language."""
    return register_error_text(finding)
