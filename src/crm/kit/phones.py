"""Chinese phone numbers: validation, one normalised form, and display masking."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_ACCEPTED = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_phone(raw: str) -> str | None:  # noqa: PLR0911 - one early exit per rejection reason
    """Normalise a mainland China mobile or landline number, or return None if it is not one.

    Mobiles become their 11 digits (13812345678); landlines become area code with its
    trunk 0, a hyphen and the subscriber number (010-12345678, 0755-1234567).
    Spaces, hyphens, brackets, a +86/0086 prefix and full-width digits are accepted.
    """
    text = raw.strip()
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException:
        return None
    if number.country_code != 86 or number.extension:
        return None
    if not phonenumbers.is_valid_number_for_region(number, "CN"):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in _ACCEPTED:
        return None
    national = str(number.national_number)
    if kind == PhoneNumberType.MOBILE:
        return national
    area_length = phonenumbers.length_of_geographical_area_code(number)
    if area_length <= 0:
        return None
    return f"0{national[:area_length]}-{national[area_length:]}"


def phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def mask_phone(phone: str) -> str:
    """138****1234 for mobiles; 010-****5678 for landlines."""
    if "-" in phone:
        area, subscriber = phone.split("-", 1)
        return f"{area}-{'*' * max(len(subscriber) - 4, 0)}{subscriber[-4:]}"
    if len(phone) >= 7:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    return "*" * len(phone)
