"""Every word the counter terminals show, by key, read from the one catalogue.

The web pages take the language from `?lang=en` (remembered in the session), the terminal
client from `--lang en`. The web terminal's script receives the table of its language in the
page, so the browser has no strings of its own. `{name}` marks a value filled in at run time.

Each key's context is `terminal.<key>` and its msgid the Chinese text; the English is in
queue_server/translations/en/LC_MESSAGES/messages.po. The compiled catalogue is read with the
standard library's gettext, so `python -m counter_client` needs neither Flask nor Babel, and
nothing of the server is imported (the catalogue is a data file found beside this package).
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Final

LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"
CATALOGUE_DIR: Final = Path(__file__).resolve().parent.parent / "queue_server" / "translations"
LOCALES: Final = {"zh": "zh_CN", "en": "en"}
PREFIX: Final = "terminal."


def T_(context: str, message: str) -> tuple[str, str]:
    """Marks a string for extraction (pybabel keyword `T_:1c,2`)."""
    return (context, message)


TEXTS: Final = (
    T_("terminal.app_name", "一号 · 柜员终端"),
    T_("terminal.login_title", "柜员登录"),
    T_("terminal.username", "用户名"),
    T_("terminal.password", "密码"),
    T_("terminal.login_submit", "登录"),
    T_("terminal.login_failed", "用户名或密码错误"),
    T_("terminal.login_missing", "请输入用户名和密码"),
    T_("terminal.login_expired_form", "页面已过期，请重新输入后登录"),
    T_("terminal.login_too_many", "尝试次数过多，请稍后再试"),
    T_("terminal.login_again", "登录已过期，请重新登录"),
    T_("terminal.logged_in_as", "当前已登录：{name}（{role}）"),
    T_("terminal.logged_out", "已退出登录"),
    T_("terminal.logged_out_kept", "已退出登录；{counter}号窗口仍有号在手，窗口保持开放"),
    T_("terminal.role_clerk", "柜员"),
    T_("terminal.role_manager", "管理员"),
    T_("terminal.role_admin", "系统管理员"),
    T_("terminal.switch_language", "English"),
    T_("terminal.counter_label", "窗口"),
    T_("terminal.counter_no", "{number}号窗口"),
    T_("terminal.counter_pick", "切换"),
    T_("terminal.sign_in", "签到"),
    T_("terminal.sign_out", "签退"),
    T_("terminal.logout", "退出登录"),
    T_("terminal.clerk_line", "{name}（工号 {clerk_no}）"),
    T_("terminal.nobody", "无人登录"),
    T_("terminal.state_open", "开放"),
    T_("terminal.state_paused", "暂停服务"),
    T_("terminal.state_closed", "已关闭"),
    T_("terminal.live_ok", "实时连接正常"),
    T_("terminal.live_lost", "连接中断，正在重连…"),
    T_("terminal.live_missing", "实时组件未加载，每3秒刷新"),
    T_("terminal.not_signed_in_here", "您未签到本窗口：签到后才能叫号办理"),
    T_("terminal.occupied_by", "本窗口已由{name}签到"),
    T_("terminal.signed_in_elsewhere", "您已签到{number}号窗口"),
    T_("terminal.manager_acting", "管理员模式：可代为操作本窗口"),
    T_("terminal.action_call_next", "叫号"),
    T_("terminal.action_call", "指呼"),
    T_("terminal.action_recall", "重呼"),
    T_("terminal.action_start", "开始"),
    T_("terminal.action_finish", "完成"),
    T_("terminal.action_no_show", "过号"),
    T_("terminal.action_transfer", "转移"),
    T_("terminal.action_hold", "挂起"),
    T_("terminal.action_pause", "暂停"),
    T_("terminal.action_resume", "恢复"),
    T_("terminal.action_pause_resume", "暂停/恢复"),
    T_("terminal.action_sign_in", "签到"),
    T_("terminal.action_sign_out", "签退"),
    T_("terminal.action_return", "返回排队"),
    T_("terminal.action_reinstate", "重排"),
    T_("terminal.done_call_next", "已叫 {number}"),
    T_("terminal.done_call", "已叫 {number}"),
    T_("terminal.done_recall", "已重呼 {number}"),
    T_("terminal.done_start", "开始办理 {number}"),
    T_("terminal.done_finish", "{number} 已完成"),
    T_("terminal.done_no_show", "{number} 已过号"),
    T_("terminal.done_transfer", "{number} 已转移到 {queue}"),
    T_("terminal.done_hold", "{number} 已挂起"),
    T_("terminal.done_pause", "已暂停服务"),
    T_("terminal.done_resume", "已恢复服务"),
    T_("terminal.done_sign_in", "已签到 {number}号窗口"),
    T_("terminal.done_sign_out", "已签退 {number}号窗口"),
    T_("terminal.done_return", "{number} 已返回排队"),
    T_("terminal.done_reinstate", "{number} 已重排"),
    T_("terminal.nobody_waiting", "没有等候的号"),
    T_("terminal.error_invalid_state", "当前状态不允许此操作"),
    T_("terminal.error_counter_not_open", "窗口未开放或已暂停"),
    T_("terminal.error_counter_occupied", "窗口已被占用"),
    T_("terminal.error_forbidden", "没有权限：您未签到此窗口"),
    T_("terminal.error_not_found", "没有找到"),
    T_("terminal.error_unauthenticated", "登录已过期"),
    T_("terminal.error_invalid_field", "输入有误"),
    T_("terminal.error_unknown_service", "没有这项业务"),
    T_("terminal.error_party_not_allowed", "此身份不能办理该业务"),
    T_("terminal.error_too_many_requests", "请求过多，请稍后再试"),
    T_("terminal.error_network", "无法连接服务器"),
    T_("terminal.error_other", "操作失败"),
    T_("terminal.panel_ticket", "当前号"),
    T_("terminal.no_ticket", "当前没有号，按 F1 叫号"),
    T_("terminal.field_state", "状态"),
    T_("terminal.field_party", "办理人"),
    T_("terminal.field_headcount", "涉及人数"),
    T_("terminal.field_services", "本次业务"),
    T_("terminal.field_plan", "办理计划"),
    T_("terminal.field_history", "办理记录"),
    T_("terminal.field_identity", "证件号"),
    T_("terminal.field_phone", "手机"),
    T_("terminal.field_reason", "叫号原因"),
    T_("terminal.field_priority", "通道"),
    T_("terminal.field_finish_services", "办件（完成时记录）"),
    T_("terminal.party_individual", "个人"),
    T_("terminal.party_enterprise", "企业"),
    T_("terminal.priority_green", "绿色通道"),
    T_("terminal.priority_normal", "普通"),
    T_("terminal.step_of", "第 {step} 步 / 共 {total} 步"),
    T_("terminal.people", "{count} 人"),
    T_("terminal.ticket_waiting", "等候中"),
    T_("terminal.ticket_called", "已叫号"),
    T_("terminal.ticket_serving", "办理中"),
    T_("terminal.ticket_held", "挂起"),
    T_("terminal.ticket_missed", "过号"),
    T_("terminal.ticket_done", "已办结"),
    T_("terminal.ticket_cancelled", "已取消"),
    T_("terminal.ticket_expired", "已过期"),
    T_("terminal.step_planned", "待办"),
    T_("terminal.step_waiting", "等候中"),
    T_("terminal.step_called", "已叫号"),
    T_("terminal.step_serving", "办理中"),
    T_("terminal.step_ended", "已结束"),
    T_("terminal.outcome_done", "办结"),
    T_("terminal.outcome_transferred", "转出"),
    T_("terminal.outcome_held", "挂起"),
    T_("terminal.outcome_no_show", "过号"),
    T_("terminal.outcome_cancelled", "取消"),
    T_("terminal.outcome_expired", "过期"),
    T_("terminal.reason_transfer", "转移"),
    T_("terminal.reason_return", "补材料返回"),
    T_("terminal.reason_next_step", "下一步"),
    T_("terminal.reason_green", "绿色通道"),
    T_("terminal.reason_reinstated", "过号重排"),
    T_("terminal.reason_overdue", "超时优先"),
    T_("terminal.reason_manual", "指呼"),
    T_("terminal.reason_appointment", "预约"),
    T_("terminal.reason_none", "按顺序"),
    T_("terminal.history_called", "叫号 {time}"),
    T_("terminal.history_started", "开始 {time}"),
    T_("terminal.history_ended", "结束 {time}"),
    T_("terminal.history_at", "{counter}号窗口 {clerk}"),
    T_("terminal.history_recalls", "重呼 {count} 次"),
    T_("terminal.history_hold", "挂起原因：{reason}"),
    T_("terminal.panel_lines", "队列"),
    T_("terminal.line_waiting", "等候 {count} 人"),
    T_("terminal.line_longest", "最长 {time}"),
    T_("terminal.line_estimate", "约{minutes}分钟"),
    T_("terminal.line_estimate_none", "无需等候"),
    T_("terminal.line_estimate_unknown", "暂无预计"),
    T_("terminal.line_empty", "无人等候"),
    T_("terminal.line_reserved", "留给{counter}号窗口"),
    T_("terminal.line_click_to_call", "点击号码即指呼"),
    T_("terminal.call_number_label", "指呼号码"),
    T_("terminal.call_number_placeholder", "如 A003"),
    T_("terminal.call_number_invalid", "请输入号码，例如 A003"),
    T_("terminal.pause_title", "暂停服务"),
    T_("terminal.pause_reason", "暂停原因"),
    T_("terminal.pause_lunch", "午休"),
    T_("terminal.pause_meeting", "会议"),
    T_("terminal.pause_away", "临时离开"),
    T_("terminal.pause_other", "其他"),
    T_("terminal.pause_other_placeholder", "请填写原因"),
    T_("terminal.no_show_title", "确认过号"),
    T_("terminal.no_show_question", "{number} 未到窗口，确认过号？"),
    T_("terminal.why_paused", "窗口已暂停服务，按 F8 恢复服务后再叫号"),
    T_("terminal.why_closed", "窗口未开放：签到后才能叫号"),
    T_("terminal.why_closed_pause", "窗口未开放，无需暂停：签到后开放"),
    T_("terminal.why_called_call", "{number} 已叫号未办结：按 F3 开始、F5 过号或 F4 完成后再叫号"),
    T_("terminal.why_serving_call", "{number} 正在办理：按 F4 完成、F6 转移或 F7 挂起后再叫号"),
    T_("terminal.why_no_ticket", "当前没有号：按 F1 叫号"),
    T_("terminal.why_paused_no_ticket", "窗口已暂停服务，当前没有号：按 F8 恢复服务后叫号"),
    T_("terminal.why_serving_recall", "{number} 已在办理中，无需重呼：办结按 F4"),
    T_("terminal.why_serving_start", "{number} 已在办理中：办结按 F4"),
    T_("terminal.why_serving_no_show", "{number} 已开始办理，不能过号：按 F4 完成或 F6 转移"),
    T_(
        "terminal.why_in_hand_pause", "{number} 尚未办结：按 F4 完成（或 F6 转移、F7 挂起）后再暂停"
    ),
    T_("terminal.panel_held", "挂起"),
    T_("terminal.panel_missed", "过号"),
    T_("terminal.held_keep", "持件"),
    T_("terminal.held_free", "不持件"),
    T_("terminal.until", "截止 {time}"),
    T_("terminal.none", "无"),
    T_("terminal.panel_figures", "今日业绩"),
    T_("terminal.figure_served", "已办结"),
    T_("terminal.figure_avg_service", "平均办理时长"),
    T_("terminal.figure_rating", "平均评价"),
    T_("terminal.figure_ratings", "{count} 条评价"),
    T_("terminal.figure_called", "叫号"),
    T_("terminal.figure_no_show", "过号"),
    T_("terminal.figure_transferred", "转出"),
    T_("terminal.figure_held", "挂起"),
    T_("terminal.transfer_title", "转移 {number}"),
    T_("terminal.transfer_to_queue", "到队列"),
    T_("terminal.transfer_to_counter", "到窗口"),
    T_("terminal.transfer_to_service", "按业务"),
    T_("terminal.transfer_position", "排队位置"),
    T_("terminal.position_front", "优先（排在普通号前）"),
    T_("terminal.position_back", "排到队尾"),
    T_("terminal.hold_title", "挂起 {number}"),
    T_("terminal.hold_reason", "挂起原因"),
    T_("terminal.hold_reason_default", "补充材料"),
    T_("terminal.hold_reason_review", "预审中"),
    T_("terminal.hold_reason_approval", "等待审批"),
    T_("terminal.hold_keep", "持件挂起（只由本窗口叫回）"),
    T_("terminal.hold_free", "不持件（回来后任一窗口办理）"),
    T_("terminal.confirm", "确定"),
    T_("terminal.cancel", "取消"),
    T_("terminal.shortcut_hint", "快捷键 F1–F8；Esc 关闭对话框"),
    T_(
        "terminal.cli_description",
        "一号柜员终端客户端：签到窗口，实时显示队列和当前号，逐行读取命令",
    ),
    T_("terminal.cli_password_prompt", "{user} 的密码："),
    T_("terminal.cli_no_password", "没有密码：请设置 YIHAO_PASSWORD 环境变量（输入来自管道时）"),
    T_("terminal.cli_unreachable", "无法连接服务器 {server}：{detail}"),
    T_("terminal.cli_login_failed", "登录失败：{message}"),
    T_("terminal.cli_counter_unknown", "没有{number}号窗口"),
    T_("terminal.cli_counter_refused", "不能签到{number}号窗口：{message}"),
    T_("terminal.cli_signed_in", "{clerk} 已签到 {number}号窗口（{name}）。输入 ? 查看命令"),
    T_("terminal.cli_signed_out", "已签退 {number}号窗口"),
    T_("terminal.cli_sign_out_refused", "未能签退：{message}（窗口保持开放，号仍在本窗口）"),
    T_("terminal.cli_unknown_command", "未知命令：{command}（输入 ? 查看命令）"),
    T_("terminal.cli_usage_call", "用法：c 号码，例如 c A023"),
    T_("terminal.cli_usage_transfer", "用法：t 队列 [front|back]，例如 t D"),
    T_("terminal.cli_live_lost", "实时连接中断，正在重连…"),
    T_("terminal.cli_live_back", "实时连接已恢复"),
    T_("terminal.cli_live_failed", "实时连接失败（{detail}），将自动重试"),
    T_("terminal.cli_relogin", "登录已过期，已自动重新登录"),
    T_("terminal.cli_current", "当前号"),
    T_("terminal.cli_no_ticket", "当前没有号"),
    T_("terminal.cli_lines", "队列"),
    T_("terminal.cli_next", "下一位"),
    T_("terminal.cli_held", "挂起"),
    T_("terminal.cli_counter", "窗口"),
    T_("terminal.cli_clerk", "柜员"),
    T_("terminal.cli_waiting", "排队"),
    T_("terminal.cli_queue_count", "{code} {count}人"),
    T_("terminal.cli_not_paused", "窗口未暂停（暂停服务用 p）"),
    T_("terminal.cli_already_paused", "窗口已暂停服务（恢复服务用 u）"),
    T_("terminal.cli_missed", "过号"),
    T_(
        "terminal.cli_help",
        "命令：n 叫号 | c 号码 指呼 | r 重呼 | s 开始 | f [业务] 完成 | x 过号 | "
        "t 队列 转移 | h 原因 挂起 | p [原因] 暂停 | u 恢复 | l 显示窗口全貌 | "
        "q 签退并退出 | ? 帮助",
    ),
)
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    context.removeprefix(PREFIX): (context, message) for context, message in TEXTS
}
# The pause dialog's reasons (the clerk may also write its own).
PAUSE_REASONS: Final = ("pause_lunch", "pause_meeting", "pause_away")


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "messages", localedir=CATALOGUE_DIR, languages=[LOCALES[language]], fallback=True
    )


def translate(key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of `key` in `language`, with `{name}` values filled in."""
    context, message = MESSAGES[key]
    text = _catalogue(pick_language(language)).pgettext(context, message)
    return text.format(**values) if values else text


def table(language: str) -> dict[str, str]:
    """The whole table in one language (for the web terminal's script)."""
    catalogue = _catalogue(pick_language(language))
    return {key: catalogue.pgettext(*entry) for key, entry in MESSAGES.items()}


def pick_language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE
