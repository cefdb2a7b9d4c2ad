"""Byte-level tests of ticket rendering: what a printer would actually receive.

The ESC/POS stream is parsed back into commands (below), so the tests check what the
printer will print and how, not just that some bytes occur somewhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pytest
import qrcode  # type: ignore[import-untyped]
from PIL import Image

from ticket_printer.render import (
    ENTER_CHINESE_MODE,
    CJKFontNotFoundError,
    TicketLayout,
    TicketView,
    render_ticket,
    render_ticket_png,
)

GS_V_0 = b"\x1dv0"
GS_PAREN_K = b"\x1d(k"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

VIEW = TicketView(
    hall_name="西湖区人社服务大厅",
    number="A023",
    queue_name="综合业务",
    service_name="社会保障卡补换",
    waiting_ahead=5,
    est_wait_min=15,
    issued_at="2026-11-21 09:03",
    status_url="https://yihao.example.cn/t/8f3a2c1d9e7b",
    notice="请留意叫号屏幕，过号请重新取号。",
    step_text="第 1 步 / 共 2 步",
)
GB18030 = TicketLayout(width_mm=80, chinese_mode="gb18030", qr="native")
IMAGE = TicketLayout(width_mm=80, chinese_mode="image", qr="native")


# --------------------------------------------------------------------------- a small ESC/POS reader


@dataclass(frozen=True)
class Command:
    name: str  # "text", "LF", "ESC @", "GS !", "GS v 0", "GS ( k", ...
    payload: bytes = b""


@dataclass(frozen=True)
class Raster:
    width_bytes: int
    height: int
    data: bytes

    def is_black(self, x: int, y: int) -> bool:
        byte = self.data[y * self.width_bytes + x // 8]
        return bool(byte & (0x80 >> (x % 8)))


_ONE_ARGUMENT = {
    b"\x1ba": "ESC a",
    b"\x1bE": "ESC E",
    b"\x1b!": "ESC !",
    b"\x1bd": "ESC d",
    b"\x1bt": "ESC t",
    b"\x1d!": "GS !",
    b"\x1dV": "GS V",
}


def parse(stream: bytes) -> list[Command]:
    """Split an ESC/POS stream into commands; fails on anything the renderer should not send."""
    commands: list[Command] = []
    text = bytearray()
    position = 0

    def flush_text() -> None:
        if text:
            commands.append(Command("text", bytes(text)))
            text.clear()

    while position < len(stream):
        two = stream[position : position + 2]
        if two in (b"\x1b@", ENTER_CHINESE_MODE):
            flush_text()
            commands.append(Command("ESC @" if two == b"\x1b@" else "FS &"))
            position += 2
        elif two in _ONE_ARGUMENT:
            flush_text()
            commands.append(Command(_ONE_ARGUMENT[two], stream[position + 2 : position + 3]))
            position += 3
        elif stream.startswith(GS_V_0, position):
            flush_text()
            width_bytes = int.from_bytes(stream[position + 4 : position + 6], "little")
            height = int.from_bytes(stream[position + 6 : position + 8], "little")
            end = position + 8 + width_bytes * height
            commands.append(Command("GS v 0", stream[position + 4 : end]))
            position = end
        elif stream.startswith(GS_PAREN_K, position):
            flush_text()
            length = int.from_bytes(stream[position + 3 : position + 5], "little")
            commands.append(Command("GS ( k", stream[position + 5 : position + 5 + length]))
            position += 5 + length
        elif stream[position] == 0x0A:
            flush_text()
            commands.append(Command("LF"))
            position += 1
        elif stream[position] < 0x20:
            raise AssertionError(f"unexpected control byte {stream[position : position + 4]!r}")
        else:
            text.append(stream[position])
            position += 1
    flush_text()
    return commands


def rasters(commands: list[Command]) -> list[Raster]:
    found = []
    for command in commands:
        if command.name == "GS v 0":
            header, data = command.payload[:4], command.payload[4:]
            found.append(
                Raster(int.from_bytes(header[:2], "little"), header[2] | header[3] << 8, data)
            )
    return found


@dataclass(frozen=True)
class PrintedLine:
    text: str
    size: int  # GS ! value in force: high nibble width - 1, low nibble height - 1
    bold: bool

    @property
    def columns(self) -> int:
        width = (self.size >> 4) + 1
        return width * sum(1 if character.isascii() else 2 for character in self.text)


def printed_lines(commands: list[Command]) -> list[PrintedLine]:
    """Text lines as the printer prints them (GB18030), with the size and weight in force."""
    lines: list[PrintedLine] = []
    size, bold = 0, False
    for command in commands:
        if command.name == "GS !":
            size = command.payload[0]
        elif command.name == "ESC E":
            bold = command.payload == b"\x01"
        elif command.name == "text":
            lines.append(PrintedLine(command.payload.decode("gb18030"), size, bold))
    return lines


def qr_functions(commands: list[Command]) -> dict[str, bytes]:
    """GS ( k function letter -> its parameters, for the QR symbol (cn = '1')."""
    functions = {}
    for command in commands:
        if command.name == "GS ( k":
            assert command.payload[:1] == b"1", "only QR codes are expected"
            functions[chr(command.payload[1])] = command.payload[2:]
    return functions


# --------------------------------------------------------------------------- Chinese as GB18030


def test_gb18030_ticket_enters_chinese_mode_after_reset_then_prints_every_line() -> None:
    output = render_ticket(VIEW, GB18030)
    commands = parse(output)

    assert output.startswith(b"\x1b@" + ENTER_CHINESE_MODE)
    assert [line.text for line in printed_lines(commands)] == [
        "西湖区人社服务大厅",
        "A023",
        "业务类型：综合业务",
        "办理事项：社会保障卡补换",
        "第 1 步 / 共 2 步",
        "前面还有 5 人",
        "预计等候约 15 分钟",
        "取号时间：2026-11-21 09:03",
        "请留意叫号屏幕，过号请重新取号。",
        "扫码查看实时进度",
    ]


def test_gb18030_ticket_carries_names_as_gb18030_bytes() -> None:
    output = render_ticket(VIEW, GB18030)

    assert "西湖区人社服务大厅".encode("gb18030") in output
    assert "社会保障卡补换".encode("gb18030") in output
    assert "西湖区".encode("gb18030") == b"\xce\xf7\xba\xfe\xc7\xf8"  # GB2312 code points
    assert "西湖区".encode() not in output  # no UTF-8 leaks through


def test_full_width_punctuation_is_encoded_not_replaced() -> None:
    # python-escpos's text() sends GB18030 only for chunks with a Han character, so a line
    # of full-width punctuation alone would print as "?"; the renderer encodes every line.
    view = replace(VIEW, notice="：（）", step_text="")
    output = render_ticket(view, GB18030)
    commands = parse(output)

    assert "：".encode("gb18030") == b"\xa3\xba"
    assert b"\xa3\xba\xa3\xa8\xa3\xa9" in output  # ：（）
    assert "：（）" in [line.text for line in printed_lines(commands)]
    assert b"?" not in b"".join(c.payload for c in commands if c.name == "text")
    assert "业务类型：综合业务".encode("gb18030") in output


def test_number_is_printed_large_and_bold_and_headline_doubles_chinese_too() -> None:
    lines = {line.text: line for line in printed_lines(parse(render_ticket(VIEW, GB18030)))}

    number = lines["A023"]
    assert number.bold
    assert number.size >> 4 == number.size & 0x0F >= 3  # square magnification of 4x or more
    # GS ! (not ESC !) so that Chinese characters are enlarged as well as digits.
    assert lines["前面还有 5 人"].size == 0x11
    assert lines["西湖区人社服务大厅"].size == 0x01  # double height: long hall names still fit
    assert lines["预计等候约 15 分钟"].size == 0x00


def test_native_qr_code_holds_the_status_url_and_fits_the_paper() -> None:
    output = render_ticket(VIEW, GB18030)
    commands = parse(output)
    functions = qr_functions(commands)

    assert GS_PAREN_K in output
    assert functions["A"] == b"2\x00"  # model 2
    assert functions["E"] == b"1"  # error correction M (48 + 1)
    assert functions["P"] == b"0" + VIEW.status_url.encode("ascii")  # store the data
    assert functions["Q"] == b"0"  # print it
    dot_size = functions["C"][0]
    assert 3 <= dot_size <= 16
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(VIEW.status_url)
    code.make(fit=True)
    assert code.modules_count * dot_size <= GB18030.pixel_width
    # The caption follows the code.
    qr_print = next(
        i for i, c in enumerate(commands) if c.name == "GS ( k" and c.payload[1:2] == b"Q"
    )
    following = [c.payload for c in commands[qr_print:] if c.name == "text"]
    assert following[0].decode("gb18030") == "扫码查看实时进度"


def test_ticket_ends_with_feed_and_cut() -> None:
    commands = parse(render_ticket(VIEW, GB18030))

    assert commands[-2] == Command("ESC d", b"\x06")  # feed past the cutter
    assert commands[-1] == Command("GS V", b"\x00")  # full cut
    assert [c.name for c in commands].count("GS V") == 1


def test_lines_fit_the_paper_width_on_58_and_80_mm() -> None:
    notice = "请留意叫号屏幕提示，过号请重新取号，谢谢合作。"  # 23 characters, 46 columns
    view = replace(VIEW, notice=notice)
    narrow = printed_lines(parse(render_ticket(view, replace(GB18030, width_mm=58))))
    wide = printed_lines(parse(render_ticket(view, GB18030)))

    assert all(line.columns <= 32 for line in narrow)
    assert all(line.columns <= 48 for line in wide)
    assert notice in [line.text for line in wide]  # one line on 80 mm
    assert notice not in [line.text for line in narrow]  # wrapped on 58 mm...
    assert "".join(line.text for line in narrow).count(notice) == 1  # ...without losing text


def test_words_longer_than_a_line_are_cut_and_kept_whole_otherwise() -> None:
    url = "https://rs.example.gov.cn/notice/2026/11/21/opening-hours-and-holidays.html"
    view = replace(VIEW, notice=f"详见 {url} 或咨询导办台。")
    lines = printed_lines(parse(render_ticket(view, replace(GB18030, width_mm=58))))
    notice_lines = [line.text for line in lines][8:-1]  # between issue time and QR caption

    assert all(line.columns <= 32 for line in lines)
    # The URL starts on its own line instead of mid-line, and is cut only where a line is full.
    assert notice_lines == ["详见", url[:32], url[32:64], url[64:] + " 或咨询导办台。"]


def test_58_mm_uses_a_smaller_number_and_qr_than_80_mm() -> None:
    narrow_commands = parse(render_ticket(VIEW, replace(GB18030, width_mm=58)))
    wide_commands = parse(render_ticket(VIEW, GB18030))
    narrow = {line.text: line for line in printed_lines(narrow_commands)}
    wide = {line.text: line for line in printed_lines(wide_commands)}

    assert narrow["A023"].size == 0x33  # 4x: 4 characters x 48 dots of 384
    assert wide["A023"].size == 0x55  # 6x: 4 characters x 72 dots of 576
    assert qr_functions(narrow_commands)["C"][0] < qr_functions(wide_commands)["C"][0]


def test_long_number_is_shrunk_to_fit_the_line() -> None:
    view = replace(VIEW, number="VIP12345")  # 8 characters
    lines = {
        line.text: line
        for line in printed_lines(parse(render_ticket(view, replace(GB18030, width_mm=58))))
    }

    width = (lines["VIP12345"].size >> 4) + 1
    assert 8 * 12 * width <= 384


def test_optional_parts_are_left_out() -> None:
    view = replace(VIEW, notice="", step_text="", status_url="")
    commands = parse(render_ticket(view, GB18030))
    texts = [line.text for line in printed_lines(commands)]

    assert "扫码查看实时进度" not in texts
    assert not qr_functions(commands)
    assert not any("步" in text for text in texts)
    assert texts[-1] == "取号时间：2026-11-21 09:03"


def test_green_mark_place_hold_reason_and_closed_line_are_printed() -> None:
    """Issue 12: the green mark, where to wait, the hold reason on a reprint, and no "0
    minutes" for a line nobody serves."""
    view = replace(
        VIEW, green=True, location="三楼", hold_reason="劳动合同原件", wait_text="窗口暂未开放"
    )
    texts = [line.text for line in printed_lines(parse(render_ticket(view, GB18030)))]

    assert "【绿色通道】" in texts
    assert "请到三楼等候" in texts
    assert "需补齐：劳动合同原件" in texts
    assert "窗口暂未开放" in texts
    assert not any("分钟" in text for text in texts)
    plain = [line.text for line in printed_lines(parse(render_ticket(VIEW, GB18030)))]
    assert not any("绿色通道" in text or "等候" == text[-2:] for text in plain)


# --------------------------------------------------------------------------- Chinese as an image


def test_image_mode_sends_chinese_as_raster_and_no_gb18030_text() -> None:
    output = render_ticket(VIEW, IMAGE)
    commands = parse(output)
    text = b"".join(c.payload for c in commands if c.name == "text")

    assert GS_V_0 in output
    assert ENTER_CHINESE_MODE not in output
    assert text.isascii()  # only ASCII goes as text: the number
    assert "西湖区".encode("gb18030") not in output
    assert "前面还有".encode("gb18030") not in output
    assert [line.text for line in printed_lines(commands)] == ["A023"]
    images = rasters(commands)
    assert images, "Chinese lines must be sent as raster images"
    for image in images:
        assert image.width_bytes * 8 == IMAGE.pixel_width
        assert image.height * image.width_bytes == len(image.data)
        black = sum(bin(byte).count("1") for byte in image.data)
        assert 0 < black < image.width_bytes * 8 * image.height // 2  # ink, on white paper


def test_image_mode_on_58_mm_uses_384_dot_rasters() -> None:
    images = rasters(parse(render_ticket(VIEW, replace(IMAGE, width_mm=58))))

    assert images
    assert {image.width_bytes for image in images} == {48}


def test_image_qr_is_a_centred_raster_of_the_status_url() -> None:
    layout = replace(GB18030, qr="image")
    commands = parse(render_ticket(VIEW, layout))

    assert not qr_functions(commands)
    (qr_image,) = rasters(commands)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(VIEW.status_url)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    columns_with_ink = [
        x
        for x in range(qr_image.width_bytes * 8)
        if any(qr_image.is_black(x, y) for y in range(qr_image.height))
    ]
    rows_with_ink = [
        y
        for y in range(qr_image.height)
        if any(qr_image.is_black(x, y) for x in range(qr_image.width_bytes * 8))
    ]
    left, top = columns_with_ink[0], rows_with_ink[0]
    dot = (columns_with_ink[-1] - left + 1) // modules
    assert dot >= 3
    right_margin = qr_image.width_bytes * 8 - 1 - columns_with_ink[-1]
    assert abs(left - right_margin) <= 1  # centred
    for row in range(modules):
        for column in range(modules):
            centre = (left + column * dot + dot // 2, top + row * dot + dot // 2)
            assert qr_image.is_black(*centre) == matrix[row][column], (row, column)


def test_image_mode_without_a_cjk_font_names_the_package_to_install(tmp_path: Path) -> None:
    layout = replace(IMAGE, font_dirs=(str(tmp_path),))

    with pytest.raises(CJKFontNotFoundError, match="fonts-wqy-microhei"):
        render_ticket(VIEW, layout)


def test_gb18030_mode_needs_no_font(tmp_path: Path) -> None:
    layout = replace(GB18030, font_dirs=(str(tmp_path),))

    assert render_ticket(VIEW, layout).endswith(b"\x1dV\x00")


# --------------------------------------------------------------------------- PNG


@pytest.mark.parametrize(("width_mm", "pixels"), [(58, 384), (80, 576)])
def test_png_has_the_paper_width_and_ink(width_mm: Literal[58, 80], pixels: int) -> None:
    png = render_ticket_png(VIEW, TicketLayout(width_mm=width_mm))

    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.width == pixels
        assert image.height > image.width  # a ticket is a tall strip
        darkest, lightest = image.convert("L").getextrema()
        assert (darkest, lightest) == (0, 255)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "settings",
    [{"width_mm": 76}, {"chinese_mode": "utf8"}, {"qr": "svg"}],
)
def test_layout_rejects_unknown_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        TicketLayout(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [{"waiting_ahead": -1}, {"est_wait_min": -5}, {"number": " "}],
)
def test_view_rejects_impossible_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="number|must be"):
        replace(VIEW, **changes)  # type: ignore[arg-type]
