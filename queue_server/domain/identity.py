"""Visitor identity checks and masking for the one-number policy (一号到底).

The server never stores an identity in clear: only a keyed hash (to find the
visitor's unfinished ticket) and a masked form (for staff).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from stdnum.cn import uscc
from stdnum.iso7064 import mod_11_2

# GB 32100-2015: the 31 characters of a unified social credit code (no I, O, Z, S, V).
_CREDIT_CODE_CHARSET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
# Full-width digits and letters (U+FF10–U+FF5A), as an IME types them, read as ASCII.
_FULL_WIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B)}

_PHONE_RE = re.compile(r"1[0-9]{10}")


def N_(message: str) -> str:
    """Marks a message for the translation catalogue (an extraction keyword): the API renders
    it in the request's language."""
    return message


_ID_CARD_SHAPE = N_("身份证号应为18位：17位数字加1位数字或X")
_CREDIT_CODE_SHAPE = N_("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）")
_PHONE_SHAPE = N_("手机号应为以1开头的11位数字")


class IdentityError(ValueError):
    """An identity that fails its format or check digit; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Identity:
    kind: str  # "id_card", "credit_code" or "phone"
    value: str  # normalised (upper case, no spaces)

    def keyed_hash(self, secret: bytes) -> str:
        message = f"{self.kind}:{self.value}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()

    def masked(self) -> str:
        if self.kind == "phone":
            return self.value[:3] + "****" + self.value[-4:]
        return self.value[:4] + "*" * 10 + self.value[-4:]


def ascii_form(raw: str, code: str, message: str) -> str:
    """Full-width digits and letters become ASCII; any other non-ASCII character (a
    superscript, another script's digits) is refused, so one identity has one form."""
    value = raw.translate(_FULL_WIDTH_TO_ASCII).strip()
    if not value.isascii():
        raise IdentityError(code, message)
    return value


def id_card_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2, the 18th character of a resident ID-card number."""
    return str(mod_11_2.calc_check_digit(first17))


def credit_code_check_char(first17: str) -> str:
    """GB 32100-2015's check character of a unified social credit code."""
    return str(uscc.calc_check_digit(first17))


def parse_id_card(raw: str, today: date) -> Identity:
    value = ascii_form(raw, "invalid_visitor_id", _ID_CARD_SHAPE).upper()
    if (
        len(value) != 18
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise IdentityError("invalid_visitor_id", _ID_CARD_SHAPE)
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdentityError(
            "invalid_visitor_id", "身份证号中的出生日期不存在，请核对第7至14位"
        ) from None
    if birth > today or birth.year < 1900:
        raise IdentityError("invalid_visitor_id", "身份证号中的出生日期不合理，请核对第7至14位")
    if id_card_check_char(value[:17]) != value[17]:
        raise IdentityError("invalid_visitor_id", "身份证号校验位不符，请核对是否输错")
    return Identity("id_card", value)


def parse_credit_code(raw: str) -> Identity:
    value = ascii_form(raw, "invalid_visitor_id", _CREDIT_CODE_SHAPE).upper()
    if len(value) != 18 or any(char not in _CREDIT_CODE_CHARSET for char in value):
        raise IdentityError("invalid_visitor_id", _CREDIT_CODE_SHAPE)
    if credit_code_check_char(value[:17]) != value[17]:
        raise IdentityError("invalid_visitor_id", "统一社会信用代码校验位不符，请核对是否输错")
    return Identity("credit_code", value)


def parse_phone(raw: str) -> Identity:
    value = ascii_form(raw, "invalid_phone", _PHONE_SHAPE).replace(" ", "").replace("-", "")
    if not _PHONE_RE.fullmatch(value):
        raise IdentityError("invalid_phone", _PHONE_SHAPE)
    return Identity("phone", value)


def parse_visitor_id(raw: str, party: str, today: date) -> Identity:
    """An individual gives an ID-card number; an enterprise its credit code."""
    if party == "enterprise":
        return parse_credit_code(raw)
    return parse_id_card(raw, today)
