"""Managers' tables: daily report summaries, bad-review follow-ups, alerts sent, and hall
settings changed at run time. Imported at the end of models.py so create_all sees them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from queue_server.db import Base, UTCDateTime
from queue_server.models import Step

REPORT_GROUPS = ("service", "queue", "counter", "clerk", "hour", "day")
FOLLOW_UP_STATES = ("open", "assigned", "closed")
ALERT_KINDS = ("wait_target", "counter_paused", "printer", "calendar", "message_queue")


# Reports read a business day's steps (today's, and a day being summarised) by site and day;
# without this index each such read scans every step ever recorded. Declared here, with the
# tables the reports own, on the steps table of models.py.
Index("ix_steps_site_business_day", Step.site_code, Step.business_day)


class DailySummary(Base):
    """One report row of one closed business day, written at day close: the counts and the
    one-second wait and service-time histograms (so percentiles over months stay exact).
    `key` is the group's key as text ('' for the whole day in group 'day')."""

    __tablename__ = "daily_summaries"
    __table_args__ = (
        CheckConstraint(
            "report_group IN ({})".format(", ".join(repr(g) for g in REPORT_GROUPS)),
            name="report_group",
        ),
        # A report reads one group's rows over a range of days.
        Index("ix_daily_summaries_range", "site_code", "report_group", "business_day"),
    )
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    report_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


MONTH_GROUPS = (*REPORT_GROUPS, "all", "weekday_hour")


class MonthlySummary(Base):
    """The daily summaries of one finished calendar month added up, per (group, key), so a
    year's report reads twelve rows per key instead of 250 (histograms merge exactly).
    Written once every day of the month with steps is summarised. Besides the report
    groups: `all` (key '') the whole month — also the marker that the month is rolled up —
    and `weekday_hour` (key 'weekday:hour', 0 = Monday) for the heatmap; group `day` is
    never rolled up (its rows are days)."""

    __tablename__ = "monthly_summaries"
    __table_args__ = (
        CheckConstraint(
            "report_group IN ({})".format(", ".join(repr(g) for g in MONTH_GROUPS)),
            name="report_group",
        ),
        Index("ix_monthly_summaries_range", "site_code", "report_group", "month"),
    )
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    report_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewFollowUp(Base):
    """差评整改: the follow-up of one bad rating (a step rated 1–2). The rating itself stays on
    the step; this row exists once a manager has touched the item."""

    __tablename__ = "review_follow_ups"
    __table_args__ = (CheckConstraint(f"state IN {FOLLOW_UP_STATES!r}", name="state"),)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    assignee: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))


class ManagerAlert(Base):
    """An alert sent to managers; (site, kind, subject) is unique, so a job that runs again
    sends nothing twice. `subject` names what it is about: a step, a counter's pause."""

    __tablename__ = "manager_alerts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ALERT_KINDS!r}", name="kind"),
        Index("uq_manager_alerts_subject", "site_code", "kind", "subject", unique=True),
        Index("ix_manager_alerts_site_at", "site_code", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SiteSetting(Base):
    """A hall setting changed by an admin at run time, over the hall file: a service's
    target wait or daily quota, the hall notice. Read at every request (no restart)."""

    __tablename__ = "site_settings"
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
