"""Configuration: defaults < YAML hall file < YIHAO_* environment < a test dict.

The hall file describes sites (halls): their lines, businesses, routing,
counters, kiosks and policy; and the staff. It is checked at start and a bad
file is refused with the path of each mistake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from queue_server.domain.calendar import (
    HallCalendar,
    Interval,
    Weekday,
    check_intervals,
    minutes_of,
)
from queue_server.domain.routing import RoutingRule, default_rules

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_HALL_FILE = PACKAGE_DIR.parent / "config" / "demo-hall.yaml"


class ConfigError(Exception):
    """A hall file or setting that cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Strict):
    enterprise_backoffice_headcount: int = Field(10, ge=1)
    transfer_position: Literal["front", "back"] = "front"
    return_window_min: float = Field(60, ge=0)
    no_show_grace_min: float = Field(30, ge=0)
    reinstate_after: int = Field(3, ge=1)
    max_wait_factor: float = Field(2, gt=0)
    default_service_s: float = Field(300, gt=0)
    evaluation_window_s: float = Field(120, gt=0)
    max_headcount: int = Field(10000, ge=1)


DayIntervals = tuple[tuple[str, str], ...]  # [[from, until], …]; [] = closed that day
Day = date  # (a field below is named `date`)


def _check_week(weekly: dict[Weekday, DayIntervals]) -> dict[Weekday, DayIntervals]:
    for weekday, pairs in weekly.items():
        try:
            check_intervals(Interval.parse(pair) for pair in pairs)
        except ValueError as error:
            raise ValueError(f"{weekday}: {error}") from None
    return weekly


class LineHours(_Strict):
    """A line that keeps other times: its own weekly hours (other weekdays: the hall's)."""

    weekly: dict[Weekday, DayIntervals] = Field(default_factory=dict)

    _weekly = field_validator("weekly")(_check_week)


class ExtendedDay(_Strict):
    """延时服务: that day the hall closes at a later `until`."""

    date: Day
    until: str

    @field_validator("until")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        minutes_of(value)
        return value


class Hours(_Strict):
    """Opening hours (SPEC §9; the rules in domain/calendar.py and docs/calendar.md)."""

    issue_from: str = "00:00"  # the window of every weekday without a `weekly` entry
    issue_until: str = "24:00"
    weekly: dict[Weekday, DayIntervals] = Field(default_factory=dict)
    extended: tuple[ExtendedDay, ...] = ()
    lines: dict[str, LineHours] = Field(default_factory=dict)
    open_on_holidays: bool = False

    @field_validator("issue_from", "issue_until")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        minutes_of(value)
        return value

    _weekly = field_validator("weekly")(_check_week)

    @model_validator(mode="after")
    def _window_and_days(self) -> Hours:
        if minutes_of(self.issue_from) >= minutes_of(self.issue_until):
            raise ValueError(
                f"issue_from {self.issue_from} must come before issue_until {self.issue_until}"
            )
        days = [day.date for day in self.extended]
        for day in days:
            if days.count(day) > 1:
                raise ValueError(f"extended: {day.isoformat()} appears twice")
        return self

    def calendar(self, days: CalendarConfig) -> HallCalendar:
        """These hours with the hall's own holidays and workdays (and the library's)."""
        return HallCalendar.of(
            issue_from=self.issue_from,
            issue_until=self.issue_until,
            weekly=self.weekly,
            extended={day.date: day.until for day in self.extended},
            lines={code: line.weekly for code, line in self.lines.items()},
            open_on_holidays=self.open_on_holidays,
            holidays=days.holidays,
            workdays=days.workdays,
        )


class CalendarConfig(_Strict):
    """The hall's own public holidays and make-up workdays (调休上班), on top of those the
    `chinese-calendar` library knows: enter each year's State Council notice here when it is
    published, before the library knows that year (docs/calendar.md)."""

    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _holiday_or_workday(self) -> CalendarConfig:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"{both[0].isoformat()} is listed both as a holiday and a workday")
        return self


class AppointmentsConfig(_Strict):
    """Bookings (预约, SPEC §8; docs/appointments.md): slots of `slot_min` inside the opening
    hours, up to `days_ahead` days ahead, check-in from `early_min` before a slot's start to
    `late_min` after it; `capacity` places per slot for each bookable business."""

    slot_min: int = Field(30, ge=5, le=24 * 60)
    days_ahead: int = Field(7, ge=0, le=90)
    early_min: float = Field(30, ge=0)
    late_min: float = Field(15, ge=0)
    capacity: dict[str, int] = Field(default_factory=dict)

    @field_validator("capacity")
    @classmethod
    def _places(cls, value: dict[str, int]) -> dict[str, int]:
        for service, places in value.items():
            if places < 1:
                raise ValueError(f"capacity of {service}: at least 1 place per slot")
        return value


class QueueConfig(_Strict):
    code: str = Field(min_length=1, max_length=8)
    name: str
    name_en: str | None = None  # shown on English pages (?lang=en); the API keeps `name`
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")


# A business's target wait when the hall file names none; also a step's with no business.
DEFAULT_TARGET_WAIT_MIN = 20


class ServiceConfig(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str | None = None
    category: Literal["comprehensive", "special", "pickup"]
    parties: tuple[Literal["individual", "enterprise"], ...] = ("individual", "enterprise")
    target_wait_min: float = Field(DEFAULT_TARGET_WAIT_MIN, gt=0)
    daily_quota: int | None = Field(None, ge=1)
    service_s: float | None = Field(None, gt=0)  # typical counter time, before any history


class RuleConfig(_Strict):
    queue: str
    category: Literal["comprehensive", "special", "pickup"] | None = None
    party: Literal["individual", "enterprise"] | None = None
    min_headcount: int | None = Field(None, ge=1)


class CounterConfig(_Strict):
    number: int = Field(ge=1)
    name: str
    name_en: str | None = None
    location: str | None = None
    location_en: str | None = None
    queues: tuple[str, ...] = Field(min_length=1)
    strategy: Literal["fifo", "ordered"] = "fifo"


DEFAULT_PRINTER_KIOSK = "K1"  # the kiosk whose printer is settings PRINTER (--printer)


class KioskConfig(_Strict):
    code: str
    name: str = ""
    printer: str | None = None
    agent_token: str | None = None
    paper_mm: Literal[58, 80] = 80
    chinese: Literal["gb18030", "image"] = "gb18030"
    qr: Literal["native", "image"] = "native"

    @model_validator(mode="after")
    def _printer_or_agent(self) -> KioskConfig:
        if self.printer and self.agent_token:
            raise ValueError("a kiosk has a printer URL or a print agent, never both")
        return self

    @property
    def prints(self) -> bool:
        """Whether tickets taken here go on paper: its own printer, a print agent, or K1's."""
        return bool(self.printer or self.agent_token or self.code == DEFAULT_PRINTER_KIOSK)

    def printer_url(self, default: str) -> str | None:
        """The printer this server drives for the kiosk (None: none, or a print agent's)."""
        if self.agent_token:
            return None
        if self.printer:
            return self.printer
        return default if self.code == DEFAULT_PRINTER_KIOSK else None


class SiteConfig(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    name_en: str | None = None
    timezone: str = "Asia/Shanghai"
    notice: str = ""
    hours: Hours = Hours()
    policy: Policy = Policy()
    calendar: CalendarConfig = CalendarConfig()
    queues: tuple[QueueConfig, ...] = Field(min_length=1)
    services: tuple[ServiceConfig, ...] = Field(min_length=1)
    routing: tuple[RuleConfig, ...] | None = None
    counters: tuple[CounterConfig, ...] = ()
    kiosks: tuple[KioskConfig, ...] = ()
    appointments: AppointmentsConfig | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @model_validator(mode="after")
    def _references(self) -> SiteConfig:
        queue_codes = {queue.code for queue in self.queues}
        _unique("queues", [queue.code for queue in self.queues])
        _unique("queue prefixes", [queue.prefix for queue in self.queues])
        _unique("services", [service.code for service in self.services])
        _unique("counters", [counter.number for counter in self.counters])
        _unique("kiosks", [kiosk.code for kiosk in self.kiosks])
        for counter in self.counters:
            for code in counter.queues:
                if code not in queue_codes:
                    raise ValueError(f"counter {counter.number} serves unknown queue '{code}'")
        for rule in self.rules():
            if rule.queue not in queue_codes:
                raise ValueError(f"a routing rule sends to unknown queue '{rule.queue}'")
        return self

    @model_validator(mode="after")
    def _hours_of_lines(self) -> SiteConfig:
        for code in self.hours.lines:
            if self.queue(code) is None:
                raise ValueError(f"hours.lines: unknown queue '{code}'")
        return self

    @model_validator(mode="after")
    def _bookable_services(self) -> SiteConfig:
        for code in self.appointments.capacity if self.appointments else ():
            if self.service(code) is None:
                raise ValueError(f"appointments.capacity: unknown service '{code}'")
        return self

    def rules(self) -> tuple[RoutingRule, ...]:
        if self.routing is None:
            return default_rules(self.policy.enterprise_backoffice_headcount)
        return tuple(RoutingRule(**rule.model_dump()) for rule in self.routing)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def queue(self, code: str) -> QueueConfig | None:
        return next((queue for queue in self.queues if queue.code == code), None)

    def service(self, code: str) -> ServiceConfig | None:
        return next((service for service in self.services if service.code == code), None)

    def kiosk(self, code: str) -> KioskConfig | None:
        return next((kiosk for kiosk in self.kiosks if kiosk.code == code), None)


class UserConfig(_Strict):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str
    role: Literal["clerk", "manager", "admin"]
    site: str | None = None
    clerk_no: str | None = None
    counter: int | None = None  # the clerk's usual counter
    # The counters this user may sign into (SPEC §2, 综合柜员 skills); None: every counter.
    # Managers and admins sign into none (they may still act on any counter).
    counters: tuple[int, ...] | None = None
    password: str | None = None  # plain, for demos only: hashed at load
    password_hash: str | None = None

    @model_validator(mode="after")
    def _one_password(self) -> UserConfig:
        if bool(self.password) == bool(self.password_hash):
            raise ValueError(f"user {self.username}: give exactly one of password, password_hash")
        return self

    @property
    def signs_in(self) -> bool:
        """Whether this user signs into counters at all (clerks do; managers and admins
        act on any counter without signing in)."""
        return self.role == "clerk"

    def may_sign_into(self, number: int) -> bool:
        """SPEC §2 "who may sign in where": the listed counters, or every counter."""
        return self.signs_in and (self.counters is None or number in self.counters)


class HallConfig(_Strict):
    sites: tuple[SiteConfig, ...] = Field(min_length=1)
    users: tuple[UserConfig, ...] = ()

    @model_validator(mode="after")
    def _users_sites(self) -> HallConfig:
        _unique("sites", [site.code for site in self.sites])
        _unique("users", [user.username for user in self.users])
        codes = {site.code for site in self.sites}
        for index, user in enumerate(self.users):
            if user.site is not None and user.site not in codes:
                raise ValueError(f"user {user.username} belongs to unknown site '{user.site}'")
            self._check_counters(index, user)
        return self

    def _check_counters(self, index: int, user: UserConfig) -> None:
        """Each counter a user lists exists at a site the user works at (its own, or any)."""
        where = f"users.{index}.counters"
        if user.counters is None:
            return
        if not user.signs_in and user.counters:
            raise ValueError(
                f"{where}: {user.username} is a {user.role}; managers and admins sign into "
                "no counter (they may act on any)"
            )
        sites = [site for site in self.sites if user.site in (None, site.code)]
        known = {counter.number for site in sites for counter in site.counters}
        for position, number in enumerate(user.counters):
            if number not in known:
                at = f"site '{user.site}'" if user.site else "any site"
                raise ValueError(
                    f"{where}.{position}: counter {number} of user {user.username} "
                    f"does not exist at {at}"
                )
        _unique(f"{where} of user {user.username}", list(user.counters))
        if user.counter is not None and user.counter not in user.counters:
            raise ValueError(
                f"users.{index}.counter: {user.username}'s usual counter {user.counter} "
                "is not among the counters listed"
            )

    @property
    def default_site(self) -> SiteConfig:
        return self.sites[0]

    def site(self, code: str | None) -> SiteConfig | None:
        if not code:
            return self.default_site
        return next((site for site in self.sites if site.code == code), None)

    def user(self, username: str) -> UserConfig | None:
        return next((user for user in self.users if user.username == username), None)


def _unique(what: str, values: list[Any]) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what}: '{value}' appears twice")
        seen.add(value)


def load_hall_file(path: str | Path) -> HallConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read hall file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"hall file {path} is not valid YAML: {error}") from None
    return parse_hall(raw, source=str(path))


def parse_hall(raw: Any, source: str = "hall configuration") -> HallConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with 'sites' and 'users'")
    try:
        return HallConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(_problem(problem) for problem in error.errors())
        raise ConfigError(f"{source}: {problems}") from None


def _problem(problem: Any) -> str:
    """One validation problem with its path: `users.3.counters.1: …`. A check of the whole
    file names the path in its own message."""
    path = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"])
    if not path:
        return message.removeprefix("Value error, ")
    return f"{path}: {message}"


class Settings(BaseSettings):
    """The process's settings: defaults < `YIHAO_*` environment < the overrides passed in
    (run.py's options, a test's dict; keys in any case). `hall` is the parsed hall file."""

    model_config = SettingsConfigDict(
        env_prefix="YIHAO_", case_sensitive=False, extra="forbid", arbitrary_types_allowed=True
    )

    config: str = str(DEFAULT_HALL_FILE)
    database_url: str | None = None  # SQLite under instance/ when unset
    message_queue: str | None = None
    public_url: str | None = None
    printer: str = "dummy://"
    printer_timeout_s: float = Field(3.0, gt=0)
    secret_key: str | None = None
    token_max_age_s: int = Field(12 * 3600, gt=0)
    # An app built in process (tests, scripts) is threaded; run.py starts gevent unless told
    # otherwise, and monkey-patches before anything else is imported.
    async_mode: Literal["threading", "gevent"] = "threading"
    message_queue_check_s: float = Field(2.0, gt=0)  # how often Redis is pinged
    message_queue_channel: str = "yihao"  # halls (or test runs) sharing one Redis use their own
    scheduler_lease_s: float = Field(30, gt=0)  # a dead scheduler is replaced within this (+⅓)
    login_rate_limit: str = "10 per minute"
    # Slow and silent clients (queue_server/serving.py, docs/SECURITY.md).
    header_timeout_s: float = Field(10, gt=0)  # request line and headers, in all
    body_timeout_s: float = Field(10, gt=0)  # each read of a body
    ping_interval_s: float = Field(20, gt=0)  # Socket.IO: the server pings this often
    ping_timeout_s: float = Field(10, gt=0)  # and drops a client that does not answer
    # Who may frame the public pages (CSP frame-ancestors): nobody, unless a hall embeds
    # its screens in its own portal, e.g. "'self' https://portal.example.gov.cn".
    frame_ancestors: str = Field("'none'", pattern=r"^[^;,\r\n]+$")
    publish_interval_s: float = Field(0.25, gt=0)
    position_interval_s: float = Field(1.0, gt=0)
    speech_repeat: int = 2  # how often a screen says each call (display/views.py clamps it)
    start_background: bool = False
    testing: bool = False
    instance_dir: str | None = None
    clock: Callable[[], datetime] | None = Field(None, exclude=True)
    # A rehearsal's hall clock (browser tests, the bench; docs/DEPLOYMENT.md): it starts at
    # `clock_start` (ISO 8601 with its offset; now when unset) and runs `clock_scale` times
    # as fast as the wall clock. run.py refuses either unless it listens on loopback only.
    clock_start: datetime | None = None
    clock_scale: float = Field(1.0, gt=0, le=1000)
    hall: HallConfig | None = None

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("give the offset too, e.g. 2026-12-01T09:00:00+08:00")
        return value

    @property
    def rehearsal(self) -> bool:
        """Whether the hall clock is a rehearsal's (not the wall clock)."""
        return self.clock_start is not None or self.clock_scale != 1.0

    def hall_clock(self) -> Callable[[], datetime]:
        """The clock every rule reads: a test's, a rehearsal's, or the wall clock."""
        if self.clock is not None:
            return self.clock
        if not self.rehearsal:
            return lambda: datetime.now(UTC)
        return rehearsal_clock(self.clock_start or datetime.now(UTC), self.clock_scale)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings  # no .env files, no secret directories

    @property
    def hall_config(self) -> HallConfig:
        assert self.hall is not None  # load_settings() always sets it
        return self.hall


def rehearsal_clock(start: datetime, scale: float) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs `scale` times as fast as the wall clock."""
    origin = time.monotonic()
    begin = start.astimezone(UTC)
    return lambda: begin + timedelta(seconds=(time.monotonic() - origin) * scale)


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The settings with the hall file read and checked (ConfigError says what is wrong)."""
    given = {key.lower(): value for key, value in (overrides or {}).items()}
    hall = given.pop("hall", None)
    try:
        settings = Settings(**given)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigError(f"settings: {problems}") from None
    if hall is None:
        hall = load_hall_file(settings.config)
    elif not isinstance(hall, HallConfig):
        hall = parse_hall(hall)
    settings.hall = hall
    return settings
