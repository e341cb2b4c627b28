"""Password rules in Chinese: the messages of AUTH_PASSWORD_VALIDATORS, by error code.

Django's Chinese catalogue lacks some validators' current messages (the minimum length one comes
out in English), so the platform words them itself; forms, services and the API share this.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from haopin.accounts.models import User

PASSWORD_MESSAGES = {
    "password_too_short": "密码太短，至少需要 %(min_length)d 个字符。",
    "password_too_common": "这个密码太常见了，容易被猜到。",
    "password_entirely_numeric": "密码不能全部为数字。",
    "password_too_similar": "密码与%(verbose_name)s太相似。",
}


def password_problems(password: str, user: User | None) -> list[str]:
    """Chinese messages for every password rule (AUTH_PASSWORD_VALIDATORS) the password breaks."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        problems = []
        for error in exc.error_list:
            template = PASSWORD_MESSAGES.get(error.code or "")
            problems.append(template % (error.params or {}) if template else " ".join(error.messages))
        return problems
    return []
