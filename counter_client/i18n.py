"""Every word the counter terminals show, in one table: Simplified Chinese first, English second.

The web pages take the language from `?lang=en` (remembered in the session), the terminal
client from `--lang en`. The web terminal's script receives the table of its language in the
page, so the browser has no strings of its own. `{name}` marks a value filled in at run time.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # -- login and logout --------------------------------------------------------------
    "app_name": ("一号 · 柜员终端", "Yihao · Counter terminal"),
    "login_title": ("柜员登录", "Staff sign-in"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "login_submit": ("登录", "Sign in"),
    "login_failed": ("用户名或密码错误", "Wrong user name or password"),
    "login_missing": ("请输入用户名和密码", "Enter your user name and password"),
    "login_expired_form": (
        "页面已过期，请重新输入后登录",
        "This page has expired; please enter your details again",
    ),
    "login_too_many": (
        "尝试次数过多，请稍后再试",
        "Too many attempts; please wait a minute and try again",
    ),
    "login_again": ("登录已过期，请重新登录", "Your sign-in has expired; please sign in again"),
    "logged_in_as": ("当前已登录：{name}（{role}）", "Signed in as {name} ({role})"),
    "logged_out": ("已退出登录", "You have signed out"),
    "logged_out_kept": (
        "已退出登录；{counter}号窗口仍有号在手，窗口保持开放",
        "Signed out; counter {counter} still has a ticket in hand and stays open",
    ),
    "role_clerk": ("柜员", "clerk"),
    "role_manager": ("管理员", "manager"),
    "role_admin": ("系统管理员", "administrator"),
    "switch_language": ("English", "中文"),
    # -- terminal header ----------------------------------------------------------------
    "counter_label": ("窗口", "Counter"),
    "counter_no": ("{number}号窗口", "Counter {number}"),
    "counter_pick": ("切换", "Open"),
    "sign_in": ("签到", "Sign in"),
    "sign_out": ("签退", "Sign out"),
    "logout": ("退出登录", "Log out"),
    "clerk_line": ("{name}（工号 {clerk_no}）", "{name} (staff no. {clerk_no})"),
    "nobody": ("无人登录", "nobody signed in"),
    "state_open": ("开放", "open"),
    "state_paused": ("暂停服务", "paused"),
    "state_closed": ("已关闭", "closed"),
    "live_ok": ("实时连接正常", "live"),
    "live_lost": ("连接中断，正在重连…", "connection lost, reconnecting…"),
    "live_missing": ("实时组件未加载，每3秒刷新", "live updates unavailable, refreshing every 3 s"),
    "not_signed_in_here": (
        "您未签到本窗口：签到后才能叫号办理",
        "You are not signed into this counter: sign in to call and serve",
    ),
    "occupied_by": ("本窗口已由{name}签到", "{name} is signed into this counter"),
    "signed_in_elsewhere": (
        "您已签到{number}号窗口",
        "You are signed into counter {number}",
    ),
    "manager_acting": (
        "管理员模式：可代为操作本窗口",
        "Manager mode: you may act for this counter",
    ),
    # -- actions ------------------------------------------------------------------------
    "action_call_next": ("叫号", "Call next"),
    "action_call": ("指呼", "Call number"),
    "action_recall": ("重呼", "Recall"),
    "action_start": ("开始", "Start"),
    "action_finish": ("完成", "Finish"),
    "action_no_show": ("过号", "No-show"),
    "action_transfer": ("转移", "Transfer"),
    "action_hold": ("挂起", "Hold"),
    "action_pause": ("暂停", "Pause"),
    "action_resume": ("恢复", "Resume"),
    "action_pause_resume": ("暂停/恢复", "Pause/Resume"),
    "action_sign_in": ("签到", "Sign in"),
    "action_sign_out": ("签退", "Sign out"),
    "action_return": ("返回排队", "Back in line"),
    "action_reinstate": ("重排", "Reinstate"),
    "done_call_next": ("已叫 {number}", "Called {number}"),
    "done_call": ("已叫 {number}", "Called {number}"),
    "done_recall": ("已重呼 {number}", "Recalled {number}"),
    "done_start": ("开始办理 {number}", "Serving {number}"),
    "done_finish": ("{number} 已完成", "{number} finished"),
    "done_no_show": ("{number} 已过号", "{number} marked no-show"),
    "done_transfer": ("{number} 已转移到 {queue}", "{number} transferred to {queue}"),
    "done_hold": ("{number} 已挂起", "{number} on hold"),
    "done_pause": ("已暂停服务", "Paused"),
    "done_resume": ("已恢复服务", "Resumed"),
    "done_sign_in": ("已签到 {number}号窗口", "Signed into counter {number}"),
    "done_sign_out": ("已签退 {number}号窗口", "Signed out of counter {number}"),
    "done_return": ("{number} 已返回排队", "{number} is back in line"),
    "done_reinstate": ("{number} 已重排", "{number} reinstated"),
    "nobody_waiting": ("没有等候的号", "Nobody is waiting"),
    # -- errors (the server's own Chinese message is shown too) --------------------------
    "error_invalid_state": ("当前状态不允许此操作", "Not allowed in the current state"),
    "error_counter_not_open": ("窗口未开放或已暂停", "The counter is not open"),
    "error_counter_occupied": ("窗口已被占用", "The counter is taken"),
    "error_forbidden": ("没有权限：您未签到此窗口", "Not allowed: you are not at this counter"),
    "error_not_found": ("没有找到", "Not found"),
    "error_unauthenticated": ("登录已过期", "Signed out"),
    "error_invalid_field": ("输入有误", "Invalid input"),
    "error_unknown_service": ("没有这项业务", "Unknown business"),
    "error_party_not_allowed": ("此身份不能办理该业务", "Not for this kind of visitor"),
    "error_too_many_requests": ("请求过多，请稍后再试", "Too many requests"),
    "error_network": ("无法连接服务器", "Cannot reach the server"),
    "error_other": ("操作失败", "Failed"),
    # -- current ticket -----------------------------------------------------------------
    "panel_ticket": ("当前号", "Ticket in hand"),
    "no_ticket": ("当前没有号，按 F1 叫号", "No ticket in hand; press F1 to call"),
    "field_state": ("状态", "State"),
    "field_party": ("办理人", "Visitor"),
    "field_headcount": ("涉及人数", "Headcount"),
    "field_services": ("本次业务", "Businesses"),
    "field_plan": ("办理计划", "Plan"),
    "field_history": ("办理记录", "History"),
    "field_identity": ("证件号", "ID"),
    "field_phone": ("手机", "Phone"),
    "field_reason": ("叫号原因", "Call reason"),
    "field_priority": ("通道", "Channel"),
    "field_finish_services": ("办件（完成时记录）", "Handled (recorded on finish)"),
    "party_individual": ("个人", "individual"),
    "party_enterprise": ("企业", "enterprise"),
    "priority_green": ("绿色通道", "green channel"),
    "priority_normal": ("普通", "ordinary"),
    "step_of": ("第 {step} 步 / 共 {total} 步", "step {step} of {total}"),
    "people": ("{count} 人", "{count}"),
    "ticket_waiting": ("等候中", "waiting"),
    "ticket_called": ("已叫号", "called"),
    "ticket_serving": ("办理中", "serving"),
    "ticket_held": ("挂起", "on hold"),
    "ticket_missed": ("过号", "missed"),
    "ticket_done": ("已办结", "done"),
    "ticket_cancelled": ("已取消", "cancelled"),
    "ticket_expired": ("已过期", "expired"),
    "step_planned": ("待办", "planned"),
    "step_waiting": ("等候中", "waiting"),
    "step_called": ("已叫号", "called"),
    "step_serving": ("办理中", "serving"),
    "step_ended": ("已结束", "ended"),
    "outcome_done": ("办结", "done"),
    "outcome_transferred": ("转出", "transferred"),
    "outcome_held": ("挂起", "held"),
    "outcome_no_show": ("过号", "no-show"),
    "outcome_cancelled": ("取消", "cancelled"),
    "outcome_expired": ("过期", "expired"),
    "reason_transfer": ("转移", "transfer"),
    "reason_return": ("补材料返回", "back from hold"),
    "reason_next_step": ("下一步", "next step"),
    "reason_green": ("绿色通道", "green channel"),
    "reason_reinstated": ("过号重排", "reinstated"),
    "reason_overdue": ("超时优先", "overdue"),
    "reason_manual": ("指呼", "called by number"),
    "reason_appointment": ("预约", "appointment"),
    "reason_none": ("按顺序", "in order"),
    "history_called": ("叫号 {time}", "called {time}"),
    "history_started": ("开始 {time}", "started {time}"),
    "history_ended": ("结束 {time}", "ended {time}"),
    "history_at": ("{counter}号窗口 {clerk}", "counter {counter} {clerk}"),
    "history_recalls": ("重呼 {count} 次", "recalled {count}×"),
    "history_hold": ("挂起原因：{reason}", "hold reason: {reason}"),
    # -- lines --------------------------------------------------------------------------
    "panel_lines": ("队列", "Lines"),
    "line_waiting": ("等候 {count} 人", "{count} waiting"),
    "line_longest": ("最长 {time}", "longest {time}"),
    "line_estimate": ("预计 {time}", "est. {time}"),
    "line_empty": ("无人等候", "nobody waiting"),
    "line_reserved": ("留给{counter}号窗口", "for counter {counter}"),
    "line_click_to_call": ("点击号码即指呼", "click a number to call it"),
    "panel_held": ("挂起", "On hold"),
    "panel_missed": ("过号", "Missed"),
    "held_keep": ("持件", "kept here"),
    "held_free": ("不持件", "any counter"),
    "until": ("截止 {time}", "until {time}"),
    "none": ("无", "none"),
    # -- figures ------------------------------------------------------------------------
    "panel_figures": ("今日业绩", "Today"),
    "figure_served": ("已办结", "Served"),
    "figure_avg_service": ("平均办理时长", "Average service"),
    "figure_rating": ("平均评价", "Average rating"),
    "figure_ratings": ("{count} 条评价", "{count} ratings"),
    "figure_called": ("叫号", "Called"),
    "figure_no_show": ("过号", "No-shows"),
    "figure_transferred": ("转出", "Transferred"),
    "figure_held": ("挂起", "Held"),
    # -- dialogs ------------------------------------------------------------------------
    "transfer_title": ("转移 {number}", "Transfer {number}"),
    "transfer_to_queue": ("到队列", "To a line"),
    "transfer_to_counter": ("到窗口", "To a counter"),
    "transfer_to_service": ("按业务", "By business"),
    "transfer_position": ("排队位置", "Place in line"),
    "position_front": ("优先（排在普通号前）", "Front (ahead of ordinary tickets)"),
    "position_back": ("排到队尾", "Back of the line"),
    "hold_title": ("挂起 {number}", "Hold {number}"),
    "hold_reason": ("挂起原因", "Reason"),
    "hold_reason_default": ("补充材料", "missing documents"),
    "hold_reason_review": ("预审中", "pre-review"),
    "hold_reason_approval": ("等待审批", "awaiting approval"),
    "hold_keep": ("持件挂起（只由本窗口叫回）", "Keep at this counter (only it calls back)"),
    "hold_free": ("不持件（回来后任一窗口办理）", "Release (any counter serves the return)"),
    "confirm": ("确定", "OK"),
    "cancel": ("取消", "Cancel"),
    "shortcut_hint": ("快捷键 F1–F8；Esc 关闭对话框", "Shortcuts F1–F8; Esc closes a dialog"),
    # -- terminal client ----------------------------------------------------------------
    "cli_description": (
        "一号柜员终端客户端：签到窗口，实时显示队列和当前号，逐行读取命令",
        "Yihao counter terminal client: signs into a counter, shows its lines and ticket live "
        "and reads one command per line",
    ),
    "cli_password_prompt": ("{user} 的密码：", "Password for {user}: "),
    "cli_no_password": (
        "没有密码：请设置 YIHAO_PASSWORD 环境变量（输入来自管道时）",
        "No password: set YIHAO_PASSWORD (input is piped)",
    ),
    "cli_unreachable": ("无法连接服务器 {server}：{detail}", "Cannot reach {server}: {detail}"),
    "cli_login_failed": ("登录失败：{message}", "Sign-in refused: {message}"),
    "cli_counter_unknown": ("没有{number}号窗口", "There is no counter {number}"),
    "cli_counter_refused": (
        "不能签到{number}号窗口：{message}",
        "Cannot sign into counter {number}: {message}",
    ),
    "cli_signed_in": (
        "{clerk} 已签到 {number}号窗口（{name}）。输入 ? 查看命令",
        "{clerk} signed into counter {number} ({name}). Type ? for commands",
    ),
    "cli_signed_out": ("已签退 {number}号窗口", "Signed out of counter {number}"),
    "cli_sign_out_refused": (
        "未能签退：{message}（窗口保持开放，号仍在本窗口）",
        "Could not sign out: {message} (the counter stays open with its ticket)",
    ),
    "cli_unknown_command": (
        "未知命令：{command}（输入 ? 查看命令）",
        "Unknown command: {command} (? for help)",
    ),
    "cli_usage_call": ("用法：c 号码，例如 c A023", "Usage: c NUMBER, e.g. c A023"),
    "cli_usage_transfer": (
        "用法：t 队列 [front|back]，例如 t D",
        "Usage: t QUEUE [front|back], e.g. t D",
    ),
    "cli_live_lost": ("实时连接中断，正在重连…", "Live connection lost, reconnecting…"),
    "cli_live_back": ("实时连接已恢复", "Live connection restored"),
    "cli_live_failed": (
        "实时连接失败（{detail}），将自动重试",
        "Live connection failed ({detail}); retrying",
    ),
    "cli_relogin": ("登录已过期，已自动重新登录", "Sign-in expired; signed in again"),
    "cli_current": ("当前号", "Ticket"),
    "cli_no_ticket": ("当前没有号", "No ticket in hand"),
    "cli_lines": ("队列", "Line"),
    "cli_next": ("下一位", "next"),
    "cli_held": ("挂起", "held"),
    "cli_missed": ("过号", "missed"),
    "cli_help": (
        "命令：n 叫号 | c 号码 指呼 | r 重呼 | s 开始 | f 完成 | x 过号 | t 队列 转移 | "
        "h 原因 挂起 | p 暂停 | u 恢复 | q 签退并退出 | ? 帮助",
        "Commands: n call next | c NUMBER call it | r recall | s start | f finish | "
        "x no-show | t QUEUE transfer | h REASON hold | p pause | u resume | "
        "q sign out and quit | ? help",
    ),
}


def translate(key: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of `key` in `language`, with `{name}` values filled in."""
    zh, en = MESSAGES[key]
    text = en if language == "en" else zh
    return text.format(**values) if values else text


def table(language: str) -> dict[str, str]:
    """The whole table in one language (for the web terminal's script)."""
    index = 1 if language == "en" else 0
    return {key: texts[index] for key, texts in MESSAGES.items()}


def pick_language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE
