import string

from django.core.exceptions import ValidationError

CHARACTER_CLASSES_MESSAGE = (
    "Le mot de passe doit contenir au moins une minuscule, une majuscule, un chiffre "
    "et un caractère spécial."
)


class CharacterClassesValidator:
    """Strong passwords: lower case, upper case, digit and special character (RGS/ANSSI)."""

    def validate(self, password: str, user=None) -> None:
        checks = (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(c in string.punctuation or c.isspace() for c in password),
        )
        if not all(checks):
            raise ValidationError(CHARACTER_CLASSES_MESSAGE, code="password_character_classes")

    def get_help_text(self) -> str:
        return CHARACTER_CLASSES_MESSAGE
