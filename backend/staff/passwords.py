"""Staff passwords: the policy, hashing and temporary passwords."""

import secrets

from flask import current_app
from werkzeug.security import generate_password_hash

from backend.errors import ValidationFailed


class PasswordPolicy(ValidationFailed):
    code = "auth.password_policy"
    message = "密码至少10位，须包含大写字母、小写字母、数字、符号中的至少三类，且不能包含用户名"


_DUMMY_HASH = generate_password_hash("timing-equaliser", method="pbkdf2:sha256:1000")


def _hash(password):
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def check_password_policy(password, username=""):
    """Raise PasswordPolicy unless the password is 10-128 characters of at least three classes, without the username."""
    if not password or not 10 <= len(password) <= 128:
        raise PasswordPolicy()
    classes = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ]
    if sum(classes) < 3 or (username and username.lower() in password.lower()):
        raise PasswordPolicy()


def generate_password():
    """A 14-character temporary password from the CSPRNG that satisfies the policy."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789@#-_"  # no look-alikes (0/O, 1/l/I)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14))
        try:
            check_password_policy(candidate)
            return candidate
        except PasswordPolicy:
            continue
