"""Ticket numbers: prefix + at least three digits (A001 … A999, A1000 …)."""


def format_number(prefix: str, sequence_no: int) -> str:
    if sequence_no < 1:
        raise ValueError("ticket sequence numbers start at 1")
    return f"{prefix}{sequence_no:03d}"


_DIGIT_WORDS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))


def spoken_number(number: str) -> str:
    """Each character on its own, so a speech engine cannot read A023 as 'A twenty-three'."""
    return " ".join(_DIGIT_WORDS.get(char, char) for char in number)


def call_text(number: str, counter_number: int, location: str | None) -> str:
    return f"请{number}号到{location or ''}{counter_number}号窗口办理"


def call_speech(number: str, counter_number: int, location: str | None) -> str:
    return f"请 {spoken_number(number)} 号 到 {location or ''}{counter_number} 号窗口办理"


def call_words(number: str, counter_number: int, location: str | None) -> tuple[str, str]:
    """A call's text for the screens and its speech, together."""
    return call_text(number, counter_number, location), call_speech(
        number, counter_number, location
    )
