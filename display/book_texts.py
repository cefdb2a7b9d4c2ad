"""Every string of the booking page /book, by key: the context (`book.<key>`) and the
Chinese msgid of each, translated from the one catalogue (queue_server/translations/)."""

from __future__ import annotations

from queue_server.translations import T_, Entry

PREFIX = "book."

TEXTS: tuple[Entry, ...] = (
    T_("book.title", "预约办理"),
    T_("book.intro", "选择业务、日期和时段，凭预约码按时到大厅签到，优先办理。"),
    T_("book.service", "办理业务"),
    T_("book.day", "日期"),
    T_("book.day_label", "{month}月{day}日 {weekday}"),
    T_("book.today", "今天"),
    T_("book.weekday.0", "周一"),
    T_("book.weekday.1", "周二"),
    T_("book.weekday.2", "周三"),
    T_("book.weekday.3", "周四"),
    T_("book.weekday.4", "周五"),
    T_("book.weekday.5", "周六"),
    T_("book.weekday.6", "周日"),
    T_("book.slot", "时段"),
    T_("book.slot_places", "余{left}"),
    T_("book.slot_full", "已满"),
    T_("book.no_slots", "这一天没有可预约的时段"),
    T_("book.loading", "正在加载…"),
    T_("book.identity", "身份信息"),
    T_("book.visitor_id", "身份证号"),
    T_("book.phone", "手机号（可不填）"),
    T_("book.submit", "提交预约"),
    T_("book.choose_all", "请先选择业务、日期和时段"),
    T_("book.done", "预约成功"),
    T_("book.code", "预约码"),
    T_("book.qr_alt", "预约码二维码"),
    T_("book.when", "{date} {start}–{end}"),
    T_(
        "book.check_in_hint",
        "请在时段开始前{early}分钟至开始后{late}分钟内到大厅签到：凭预约码（或二维码）"
        "或本人身份证号取号，优先叫号。",
    ),
    T_("book.no_show_hint", "未签到又未取消记为爽约，30天内爽约3次将暂停预约。"),
    T_("book.cancel", "取消预约"),
    T_("book.cancel_confirm", "确定取消这个预约吗？"),
    T_("book.cancelled", "预约已取消"),
    T_("book.again", "重新预约"),
    T_("book.failed", "操作未成功，请稍后再试。"),
    T_("book.closed", "本大厅暂不开放网上预约。"),
)
