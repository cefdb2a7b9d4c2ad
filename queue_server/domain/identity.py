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

_ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CARD_CHECK = "10X98765432"  # ISO 7064 MOD 11-2, indexed by weighted sum mod 11

# GB 32100-2015: the 31 characters of a unified social credit code (no I, O, Z, S, V).
_CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_PHONE_RE = re.compile(r"1\d{10}")


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


def id_card_check_char(first17: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, _ID_CARD_WEIGHTS, strict=True)
    )
    return _ID_CARD_CHECK[total % 11]


def credit_code_check_char(first17: str) -> str:
    total = sum(
        _CREDIT_CODE_CHARSET.index(char) * weight
        for char, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return _CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def parse_id_card(raw: str, today: date) -> Identity:
    value = raw.strip().upper()
    if (
        len(value) != 18
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise IdentityError("invalid_visitor_id", "身份证号应为18位：17位数字加1位数字或X")
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
    value = raw.strip().upper()
    if len(value) != 18 or any(char not in _CREDIT_CODE_CHARSET for char in value):
        raise IdentityError(
            "invalid_visitor_id",
            "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）",
        )
    if credit_code_check_char(value[:17]) != value[17]:
        raise IdentityError("invalid_visitor_id", "统一社会信用代码校验位不符，请核对是否输错")
    return Identity("credit_code", value)


def parse_phone(raw: str) -> Identity:
    value = raw.strip().replace(" ", "").replace("-", "")
    if not _PHONE_RE.fullmatch(value):
        raise IdentityError("invalid_phone", "手机号应为以1开头的11位数字")
    return Identity("phone", value)


def parse_visitor_id(raw: str, party: str, today: date) -> Identity:
    """An individual gives an ID-card number; an enterprise its credit code."""
    if party == "enterprise":
        return parse_credit_code(raw)
    return parse_id_card(raw, today)
