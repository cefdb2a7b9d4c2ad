"""Render a queue ticket: ESC/POS bytes for a thermal printer, or a PNG for screens.

Pure functions: a `TicketView` and a `TicketLayout` in, bytes out. No Flask, no database,
no printer connection (the bytes go to a `ticket_printer.drivers.PrinterDriver`).

Chinese text reaches the printer in one of two ways (`TicketLayout.chinese_mode`):

* ``"gb18030"``: the printer's own Chinese font. We enter Chinese mode with ``FS &`` and
  encode every line ourselves as GB18030. python-escpos only switches to GB18030 for text
  that contains a Han character, so a line of full-width punctuation alone would print "?".
* ``"image"``: for printers without a Chinese font. Chinese lines are drawn with a CJK
  TrueType font into 1-bit raster images (``GS v 0``); only ASCII is sent as text.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import qrcode  # type: ignore[import-untyped]
from escpos.capabilities import Profile  # type: ignore[import-untyped]
from escpos.constants import QR_ECLEVEL_M  # type: ignore[import-untyped]
from escpos.printer import Dummy  # type: ignore[import-untyped]
from PIL import Image, ImageDraw, ImageFont

ENTER_CHINESE_MODE = b"\x1c\x26"  # FS &: bytes >= 0x80 are read as two-byte GB characters

# Debian/Ubuntu font files that carry Simplified Chinese glyphs, best first.
CJK_FONT_FILES = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansSC-Regular.ttf",
    "SourceHanSansSC-Regular.otf",
)
DEFAULT_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


class CJKFontNotFoundError(RuntimeError):
    """No font with Chinese glyphs is installed, so Chinese cannot be drawn as an image."""


@dataclass(frozen=True)
class TicketView:
    """What a ticket says, already formatted for people (times as text, numbers as counts)."""

    hall_name: str
    number: str  # e.g. "A023"
    queue_name: str
    service_name: str
    waiting_ahead: int
    est_wait_min: int
    issued_at: str  # e.g. "2026-11-21 09:03", in the hall's time zone
    status_url: str
    notice: str = ""
    step_text: str = ""  # e.g. "第 1 步 / 共 2 步" for a multi-step visit
    green: bool = False  # the green channel's mark (绿色通道)
    location: str = ""  # where to wait, e.g. "三楼"
    wait_text: str = ""  # instead of the estimate: "窗口暂未开放", "窗口暂停服务"
    hold_reason: str = ""  # on a reprint of a held ticket: what to bring back (一次告知)

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise ValueError("a ticket needs a number")
        if self.waiting_ahead < 0:
            raise ValueError(f"waiting_ahead must be >= 0, got {self.waiting_ahead}")
        if self.est_wait_min < 0:
            raise ValueError(f"est_wait_min must be >= 0, got {self.est_wait_min}")


@dataclass(frozen=True)
class TicketLayout:
    """How a ticket is put on paper; one per kiosk printer."""

    width_mm: Literal[58, 80] = 80
    chinese_mode: Literal["gb18030", "image"] = "gb18030"
    qr: Literal["native", "image"] = "native"
    font_path: str | None = None  # a CJK font file; None searches font_dirs
    font_dirs: tuple[str, ...] = DEFAULT_FONT_DIRS

    def __post_init__(self) -> None:
        # Values come from hall configuration files, so check them instead of trusting Literal.
        if self.width_mm not in (58, 80):
            raise ValueError(f"width_mm must be 58 or 80, got {self.width_mm!r}")
        if self.chinese_mode not in ("gb18030", "image"):
            raise ValueError(
                f"chinese_mode must be 'gb18030' or 'image', got {self.chinese_mode!r}"
            )
        if self.qr not in ("native", "image"):
            raise ValueError(f"qr must be 'native' or 'image', got {self.qr!r}")

    @property
    def chars_per_line(self) -> int:
        """Columns of the printer's 12x24 font; a Chinese character takes two."""
        return 32 if self.width_mm == 58 else 48

    @property
    def pixel_width(self) -> int:
        """Printable dots per line at 203 dpi."""
        return 384 if self.width_mm == 58 else 576


class _Style(Enum):
    HALL = "hall"
    NUMBER = "number"
    HEADLINE = "headline"
    BODY = "body"
    CAPTION = "caption"


@dataclass(frozen=True)
class _Text:
    text: str
    style: _Style


@dataclass(frozen=True)
class _QrCode:
    url: str


_Part = _Text | _QrCode

# Printer character magnification (width, height) per style; GS ! scales Chinese characters
# too, whereas ESC ! (python-escpos's double_width/double_height) only scales ASCII.
_MAGNIFICATION: dict[_Style, tuple[int, int]] = {
    _Style.HALL: (1, 2),
    _Style.HEADLINE: (2, 2),
    _Style.BODY: (1, 1),
    _Style.CAPTION: (1, 1),
}
_BOLD_STYLES = frozenset({_Style.HALL, _Style.NUMBER, _Style.HEADLINE})

# Font sizes in dots when text is drawn as an image; 24 matches the printer's own
# 24x24 Chinese font, so both modes fit the same number of characters per line.
_FONT_SIZE: dict[_Style, int] = {
    _Style.HALL: 36,
    _Style.HEADLINE: 44,
    _Style.BODY: 24,
    _Style.CAPTION: 22,
}
_IMAGE_SIDE_MARGIN = 8  # dots kept blank left and right, as the printer's own font does
_ANK_WIDTH_DOTS = 12  # width of one ASCII character in the printer's font A
_QR_SHARE_OF_WIDTH = 0.5  # a QR half the paper wide scans easily from a phone


def _ticket_parts(view: TicketView) -> list[_Part]:
    parts: list[_Part] = [
        _Text(view.hall_name, _Style.HALL),
        _Text(view.number, _Style.NUMBER),
    ]
    if view.green:
        parts.append(_Text("【绿色通道】", _Style.HEADLINE))
    if view.queue_name:
        parts.append(_Text(f"业务类型：{view.queue_name}", _Style.BODY))
    if view.service_name:
        parts.append(_Text(f"办理事项：{view.service_name}", _Style.BODY))
    if view.step_text:
        parts.append(_Text(view.step_text, _Style.BODY))
    if view.location:
        parts.append(_Text(f"请到{view.location}等候", _Style.HEADLINE))
    if view.hold_reason:
        parts.append(_Text(f"需补齐：{view.hold_reason}", _Style.BODY))
    parts.append(_Text(f"前面还有 {view.waiting_ahead} 人", _Style.HEADLINE))
    parts.append(_Text(view.wait_text or f"预计等候约 {view.est_wait_min} 分钟", _Style.BODY))
    parts.append(_Text(f"取号时间：{view.issued_at}", _Style.BODY))
    if view.notice:
        parts.append(_Text(view.notice, _Style.CAPTION))
    if view.status_url:
        parts.append(_QrCode(view.status_url))
        parts.append(_Text("扫码查看实时进度", _Style.CAPTION))
    return [part for part in parts if not isinstance(part, _Text) or part.text.strip()]


# --------------------------------------------------------------------------- ESC/POS


def render_ticket(view: TicketView, layout: TicketLayout | None = None) -> bytes:
    """ESC/POS bytes for one ticket, ending with a paper cut."""
    layout = layout or TicketLayout()
    printer = Dummy(profile=_printer_profile(layout))
    printer.hw("INIT")  # ESC @: forget styles left over from the previous job
    if layout.chinese_mode == "gb18030":
        printer._raw(ENTER_CHINESE_MODE)  # after ESC @, which leaves Chinese mode on some models
    printer.set(align="center")

    image_lines: list[_Text] = []  # Chinese lines waiting to be drawn as one image
    for part in _ticket_parts(view):
        is_number = isinstance(part, _Text) and part.style is _Style.NUMBER
        if isinstance(part, _Text) and not is_number and _prints_as_image(part, layout):
            image_lines.append(part)
            continue
        if image_lines:
            printer.image(_to_one_bit(_draw_text_block(image_lines, layout)))
            image_lines = []
        if isinstance(part, _QrCode):
            _print_qr(printer, part.url, layout)
        elif is_number and _prints_as_image(part, layout):
            printer.image(_to_one_bit(_draw_number(part.text, layout)))
        elif is_number:
            # ASCII numbers use the printer's own font in both modes: crisp and tiny to send.
            _print_number(printer, part.text, layout)
        else:
            _print_text(printer, part, layout)
    if image_lines:
        printer.image(_to_one_bit(_draw_text_block(image_lines, layout)))

    printer.cut()
    return bytes(printer.output)


def _printer_profile(layout: TicketLayout) -> Any:
    # The default profile has an unknown paper width, which makes python-escpos print a
    # warning to stdout on every image and skip its width check; give it ours.
    profile = Profile(
        columns=layout.chars_per_line, features=dict(Profile.profile_data["features"])
    )
    profile.profile_data = {
        **Profile.profile_data,
        "media": {"dpi": 203, "width": {"mm": layout.width_mm, "pixels": layout.pixel_width}},
    }
    return profile


def _prints_as_image(part: _Text, layout: TicketLayout) -> bool:
    return layout.chinese_mode == "image" and not part.text.isascii()


def _print_text(printer: Any, part: _Text, layout: TicketLayout) -> None:
    width, height = _MAGNIFICATION[part.style]
    printer.set(bold=part.style in _BOLD_STYLES, custom_size=True, width=width, height=height)
    for line in _wrap(part.text, layout.chars_per_line // width, _printer_columns):
        # Whole lines as GB18030 (a superset of ASCII), so full-width punctuation survives.
        printer._raw(line.encode("gb18030") + b"\n")


def _print_number(printer: Any, number: str, layout: TicketLayout) -> None:
    magnification = _number_magnification(number, layout)
    printer.set(bold=True, custom_size=True, width=magnification, height=magnification)
    printer._raw(number.encode("gb18030") + b"\n")


def _number_magnification(number: str, layout: TicketLayout) -> int:
    preferred = 4 if layout.width_mm == 58 else 6
    fits = layout.pixel_width // (_ANK_WIDTH_DOTS * _printer_columns(number))
    return max(1, min(preferred, fits, 8))


def _print_qr(printer: Any, url: str, layout: TicketLayout) -> None:
    matrix = _qr_matrix(url)
    dot_size = _qr_dot_size(len(matrix), layout)
    if layout.qr == "native":
        # Centred by the ESC a 1 sent at the start: qr(center=True) raises for native codes.
        printer.qr(url, native=True, size=dot_size, ec=QR_ECLEVEL_M)
        printer._raw(b"\n")
    else:
        printer.image(_to_one_bit(_draw_qr(matrix, dot_size, layout.pixel_width)))


def _printer_columns(text: str) -> int:
    # In Chinese mode every multi-byte GB character is printed full width (two columns).
    return sum(1 if character.isascii() else 2 for character in text)


# --------------------------------------------------------------------------- images


def render_ticket_png(view: TicketView, layout: TicketLayout | None = None) -> bytes:
    """The same ticket as a greyscale PNG, ``layout.pixel_width`` wide, for screens and docs."""
    layout = layout or TicketLayout()
    blocks: list[Image.Image] = [Image.new("L", (layout.pixel_width, 16), 255)]
    text_run: list[_Text] = []
    for part in _ticket_parts(view):
        if isinstance(part, _Text) and part.style is not _Style.NUMBER:
            text_run.append(part)
            continue
        if text_run:
            blocks.append(_draw_text_block(text_run, layout))
            text_run = []
        if isinstance(part, _QrCode):
            matrix = _qr_matrix(part.url)
            blocks.append(_draw_qr(matrix, _qr_dot_size(len(matrix), layout), layout.pixel_width))
        else:
            blocks.append(_draw_number(part.text, layout))
    if text_run:
        blocks.append(_draw_text_block(text_run, layout))
    blocks.append(Image.new("L", (layout.pixel_width, 24), 255))

    ticket = _stack(blocks, layout.pixel_width)
    buffer = io.BytesIO()
    ticket.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _draw_text_block(lines: Sequence[_Text], layout: TicketLayout) -> Image.Image:
    """Centred lines of text on a white strip as wide as the paper ("L" mode)."""
    rows: list[tuple[str, ImageFont.FreeTypeFont, int]] = []
    for part in lines:
        font = _cjk_font(layout, _FONT_SIZE[part.style])
        stroke = 1 if part.style in _BOLD_STYLES else 0  # the CJK fonts have no bold face

        def measure(text: str, font: ImageFont.FreeTypeFont = font, stroke: int = stroke) -> int:
            return int(font.getlength(text)) + 2 * stroke

        line_width = layout.pixel_width - 2 * _IMAGE_SIDE_MARGIN
        rows.extend((line, font, stroke) for line in _wrap(part.text, line_width, measure))

    line_heights = [int(font.size * 1.35) for _, font, _ in rows]
    image = Image.new("L", (layout.pixel_width, sum(line_heights) + 8), 255)
    draw = ImageDraw.Draw(image)
    top = 4
    for (line, font, stroke), line_height in zip(rows, line_heights, strict=True):
        draw.text(
            (layout.pixel_width // 2, top + line_height // 2),
            line,
            font=font,
            fill=0,
            anchor="mm",
            stroke_width=stroke,
            stroke_fill=0,
        )
        top += line_height
    return image


def _draw_number(number: str, layout: TicketLayout) -> Image.Image:
    # Same height as the printer's magnified font: 24 dots times the magnification.
    font = _cjk_font(layout, 24 * _number_magnification(number, layout))
    while font.getlength(number) > layout.pixel_width - 16 and font.size > 24:
        font = _cjk_font(layout, int(font.size * 0.9))
    height = int(font.size * 1.15)
    image = Image.new("L", (layout.pixel_width, height), 255)
    ImageDraw.Draw(image).text(
        (layout.pixel_width // 2, height // 2),
        number,
        font=font,
        fill=0,
        anchor="mm",
        stroke_width=2,
        stroke_fill=0,
    )
    return image


def _qr_matrix(url: str) -> list[list[bool]]:
    # Level M survives a smudged or creased ticket; the quiet zone is added when drawing.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _qr_dot_size(modules: int, layout: TicketLayout) -> int:
    target = int(layout.pixel_width * _QR_SHARE_OF_WIDTH) // modules
    largest_that_fits = layout.pixel_width // (modules + 8)  # 4-module quiet zone each side
    return max(1, min(target, largest_that_fits, 16))  # printers accept 1..16


def _draw_qr(matrix: list[list[bool]], dot_size: int, paper_width: int) -> Image.Image:
    modules = len(matrix)
    code = Image.new("L", (modules, modules), 255)
    code.putdata([0 if dark else 255 for row in matrix for dark in row])
    code = code.resize((modules * dot_size, modules * dot_size), Image.Resampling.NEAREST)
    quiet_zone = 4 * dot_size
    image = Image.new("L", (paper_width, code.height + 2 * quiet_zone), 255)
    image.paste(code, ((paper_width - code.width) // 2, quiet_zone))
    return image


def _to_one_bit(image: Image.Image) -> Image.Image:
    # A plain threshold: dithering antialiased glyph edges gives ragged text on thermal paper.
    return image.convert("1", dither=Image.Dither.NONE)


def _stack(blocks: Iterable[Image.Image], width: int) -> Image.Image:
    blocks = list(blocks)
    ticket = Image.new("L", (width, sum(block.height for block in blocks)), 255)
    top = 0
    for block in blocks:
        ticket.paste(block, (0, top))
        top += block.height
    return ticket


# --------------------------------------------------------------------------- fonts


def find_cjk_font(font_dirs: Iterable[str] = DEFAULT_FONT_DIRS) -> Path:
    """The first installed font with Simplified Chinese glyphs, or CJKFontNotFoundError."""
    font_dirs = tuple(font_dirs)
    found = _search_cjk_font(font_dirs)
    if found is None:
        raise CJKFontNotFoundError(
            f"no Chinese font found under {', '.join(font_dirs)} "
            f"(looked for {', '.join(CJK_FONT_FILES)}); printing Chinese as an image needs one: "
            "install the Debian package fonts-wqy-microhei (apt-get install fonts-wqy-microhei) "
            "or set TicketLayout.font_path"
        )
    return found


@functools.lru_cache(maxsize=8)
def _search_cjk_font(font_dirs: tuple[str, ...]) -> Path | None:
    for file_name in CJK_FONT_FILES:
        for font_dir in font_dirs:
            matches = sorted(Path(font_dir).rglob(file_name)) if Path(font_dir).is_dir() else []
            if matches:
                return matches[0]
    return None


def _cjk_font(layout: TicketLayout, size: int) -> ImageFont.FreeTypeFont:
    path = Path(layout.font_path) if layout.font_path else find_cjk_font(layout.font_dirs)
    return _load_font(str(path), size)


@functools.lru_cache(maxsize=64)
def _load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=_simplified_chinese_face(path))


@functools.lru_cache(maxsize=8)
def _simplified_chinese_face(path: str) -> int:
    # Noto/Source Han collections hold JP, KR, SC, TC faces; pick SC so glyphs look mainland.
    if not path.lower().endswith(".ttc"):
        return 0
    for index in range(10):
        try:
            family, _ = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if family and " SC" in family:
            return index
    return 0


# --------------------------------------------------------------------------- wrapping

# ASCII words (numbers, times, URLs) stay whole; every other character is a break point.
_TOKEN = re.compile(r"[!-~]+|\s|.", re.DOTALL)


def _wrap(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """Greedy line breaking of `text` so that measure(line) <= limit where possible."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for token in _TOKEN.findall(paragraph):
            if measure(current + token) <= limit:
                current += token
                continue
            if current.strip():
                lines.append(current.rstrip())
            current = "" if token.isspace() else token
            while len(current) > 1 and measure(current) > limit:  # one token wider than a line
                fitting = (
                    i for i in range(len(current) - 1, 0, -1) if measure(current[:i]) <= limit
                )
                cut = next(fitting, 1)
                lines.append(current[:cut])
                current = current[cut:]
        if current.strip():
            lines.append(current.rstrip())
    return lines
