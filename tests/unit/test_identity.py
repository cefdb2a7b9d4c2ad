from datetime import date
from typing import Any

import pytest

from queue_server.domain.identity import (
    IdentityError,
    credit_code_check_char,
    id_card_check_char,
    parse_credit_code,
    parse_id_card,
    parse_phone,
    parse_visitor_id,
)

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002X",  # the example of GB 11643
        "11010519491231002x",  # lower-case x is accepted and normalised
        " 11010519491231002X ",
    ],
)
def test_valid_id_cards(raw: str) -> None:
    identity = parse_id_card(raw, TODAY)
    assert identity.value == "11010519491231002X"
    assert identity.masked() == "1101**********002X"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("110105194912310021", "校验位"),  # wrong check digit
        ("11010519491331002X", "出生日期"),  # month 13
        ("11010519490230002X", "出生日期"),  # 30 February
        ("110105203012310028", "出生日期"),  # born in the future
        ("1101051949123100", "18位"),
        ("11010519491231002Y", "18位"),
        ("A1010519491231002X", "18位"),
    ],
)
def test_invalid_id_cards_say_why(raw: str, words: str) -> None:
    with pytest.raises(IdentityError) as caught:
        parse_id_card(raw, TODAY)
    assert caught.value.code == "invalid_visitor_id"
    assert words in caught.value.message


@pytest.mark.parametrize("raw", ["91350100M000100Y43", "91110000600037341L", "91110000600037341l"])
def test_valid_credit_codes(raw: str) -> None:
    assert parse_credit_code(raw).value == raw.upper()


@pytest.mark.parametrize(
    "raw",
    ["91350100M000100Y44", "91110000600037341I", "9135010OM000100Y43", "91350100M000100Y4"],
)
def test_invalid_credit_codes(raw: str) -> None:
    with pytest.raises(IdentityError) as caught:
        parse_credit_code(raw)
    assert caught.value.code == "invalid_visitor_id"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13800138000", "138****8000"),
        ("138 0013 8000", "138****8000"),
        ("138-0013-8000", "138****8000"),
    ],
)
def test_phones(raw: str, masked: str) -> None:
    assert parse_phone(raw).masked() == masked


@pytest.mark.parametrize("raw", ["23800138000", "1380013800", "138001380001", "1380013800a"])
def test_invalid_phones(raw: str) -> None:
    with pytest.raises(IdentityError) as caught:
        parse_phone(raw)
    assert caught.value.code == "invalid_phone"


def test_party_decides_which_identity() -> None:
    assert parse_visitor_id("11010519491231002X", "individual", TODAY).kind == "id_card"
    assert parse_visitor_id("91350100M000100Y43", "enterprise", TODAY).kind == "credit_code"
    with pytest.raises(IdentityError):
        parse_visitor_id("91350100M000100Y43", "individual", TODAY)


def test_keyed_hash_depends_on_secret_and_hides_value() -> None:
    identity = parse_phone("13800138000")
    first, second = identity.keyed_hash(b"one"), identity.keyed_hash(b"two")
    assert first != second
    assert "13800138000" not in first
    assert identity.keyed_hash(b"one") == first


# -- one identity, one form (SPEC §2): full-width is ASCII, anything else non-ASCII is refused
FULL_WIDTH_ID = "１１０１０５１９４９１２３１００２Ｘ"


def test_full_width_id_card_is_the_same_identity() -> None:
    ascii_identity = parse_id_card("11010519491231002X", TODAY)
    full_width = parse_id_card(FULL_WIDTH_ID, TODAY)
    assert full_width == ascii_identity
    assert full_width.keyed_hash(b"k") == ascii_identity.keyed_hash(b"k")


def test_full_width_phone_and_credit_code_are_read_as_ascii() -> None:
    assert parse_phone("１３８００１３８０００").value == "13800138000"
    assert parse_credit_code("９１３５０１００Ｍ０００１００Ｙ４３").value == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "parse"),
    [
        ("1101051949123100²X", lambda raw: parse_id_card(raw, TODAY)),  # superscript two
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", lambda raw: parse_id_card(raw, TODAY)),  # Arabic-Indic
        ("1380013800٠", parse_phone),
        ("91350100M000100Y4³", parse_credit_code),
    ],
)
def test_other_non_ascii_characters_are_refused(raw: str, parse: Any) -> None:
    with pytest.raises(IdentityError) as error:
        parse(raw)
    assert error.value.code in {"invalid_visitor_id", "invalid_phone"}


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44052418800101001", "4"), ("51010419800101001", "4")],
)
def test_id_card_check_character(first17: str, check: str) -> None:
    assert id_card_check_char(first17) == check


def test_credit_code_check_character() -> None:
    assert credit_code_check_char("91350100M000100Y4") == "3"
