"""The terminal client: signs a clerk into a counter, shows the counter's lines and ticket live
(python-socketio, `/counter`, WebSocket transport, reconnecting by itself) and runs one
command per input line, typed or piped. `python -m counter_client --help` starts it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import requests
import socketio

from counter_client.i18n import translate
from counter_client.keys import COMMANDS
from queue_server import protocol

EXIT_OK = 0
EXIT_NOT_SIGNED_OUT = 1  # quit, but the counter could not be signed out (a ticket in hand)
EXIT_USAGE = 2
EXIT_LOGIN = 3  # bad user name or password
EXIT_COUNTER = 4  # unknown counter, or the counter refused (taken, not allowed)
EXIT_UNREACHABLE = 5  # no server at that address

HTTP_TIMEOUT_S = 15
REFRESH_DELAY_S = 0.4


class ApiError(Exception):
    """An answer in the SPEC's error shape, or no answer at all (status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class CounterApi:
    """The JSON API as a clerk uses it, with its bearer token renewed by logging in again."""

    def __init__(self, server: str, username: str, password: str) -> None:
        self.server = server.rstrip("/")
        self.username = username
        self._password = password
        self.http = requests.Session()
        self.token: str | None = None
        self.user: dict[str, Any] = {}
        self.relogins = 0

    def login(self) -> dict[str, Any]:
        data = self._send(
            "POST",
            protocol.LOGIN_PATH,
            {"username": self.username, "password": self._password},
            auth=False,
        )
        self.token = str(data["token"])
        self.user = dict(data.get("user") or {})
        return self.user

    def get(self, path: str) -> dict[str, Any]:
        return self._authorised("GET", path, None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._authorised("POST", path, body or {})

    def snapshot(self, counter: int) -> dict[str, Any]:
        return self.get(f"{protocol.COUNTERS_PATH}/{counter}")

    def catalogue(self, path: str) -> list[dict[str, Any]]:
        """A public list (businesses, lines) with `code`, `name` and `name_en`; empty when it
        cannot be read."""
        try:
            response = self.http.get(self.server + path, timeout=HTTP_TIMEOUT_S)
            rows = response.json() if response.ok else []
        except (requests.RequestException, ValueError):
            return []
        if not isinstance(rows, list):
            return []
        return [row for row in rows if isinstance(row, dict) and "code" in row]

    def act(
        self,
        action: str,
        counter: int,
        body: dict[str, Any] | None = None,
        ticket_id: str | None = None,
    ) -> dict[str, Any]:
        return self.post(protocol.action_path(action, counter=counter, ticket_id=ticket_id), body)

    def _authorised(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            return self._send(method, path, body)
        except ApiError as error:
            if error.status != 401:
                raise
        self.login()  # the token expired: sign in again with the same password, once
        self.relogins += 1
        return self._send(method, path, body)

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None, *, auth: bool = True
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.http.request(
                method, self.server + path, json=body, headers=headers, timeout=HTTP_TIMEOUT_S
            )
        except requests.RequestException as error:
            raise ApiError(0, "network", str(error)) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            problem = data.get("error") if isinstance(data, dict) else None
            if isinstance(problem, dict):
                raise ApiError(
                    response.status_code,
                    str(problem.get("code", "error")),
                    str(problem.get("message", "")),
                )
            raise ApiError(response.status_code, "error", response.reason or "")
        if not isinstance(data, dict):
            raise ApiError(response.status_code, "invalid_response", "not a JSON object")
        return data


# -- what the counter looks like ---------------------------------------------------------
@dataclass
class CounterState:
    """The counter as last seen; `seq` guards against applying an older message."""

    number: int
    seq: int = -1
    lines_seq: int = -1
    counter: dict[str, Any] = field(default_factory=dict)
    ticket: dict[str, Any] | None = None
    queues: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    held: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _fresh(seq: Any, known: int) -> bool:
        return not isinstance(seq, int) or seq >= known

    def apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        seq = snapshot.get(protocol.SEQ)
        if not self._fresh(seq, self.seq):
            return
        self.seq = seq if isinstance(seq, int) else self.seq
        self.counter = dict(snapshot.get(protocol.KEY_COUNTER) or {})
        self.ticket = snapshot.get(protocol.KEY_TICKET)
        self.held = list(snapshot.get(protocol.KEY_HELD) or [])
        self.missed = list(snapshot.get(protocol.KEY_MISSED) or [])
        if self._fresh(seq, self.lines_seq):
            self.lines_seq = self.seq
            self.queues = list(snapshot.get(protocol.KEY_QUEUES) or [])
            self.lines = dict(snapshot.get(protocol.KEY_LINES) or {})

    def apply_counter(self, payload: dict[str, Any]) -> None:
        if payload.get("counter") == self.number and self._fresh(
            payload.get(protocol.SEQ), self.seq
        ):
            self.counter.update({key: value for key, value in payload.items() if key != "seq"})

    def apply_ticket(self, payload: dict[str, Any]) -> None:
        seq = payload.get(protocol.SEQ)
        if payload.get("counter") != self.number or not self._fresh(seq, self.seq):
            return
        if isinstance(seq, int):
            self.seq = seq
        self.ticket = payload.get(protocol.KEY_TICKET)

    def apply_queues(self, payload: dict[str, Any]) -> None:
        seq = payload.get(protocol.SEQ)
        if not self._fresh(seq, self.lines_seq):
            return
        if isinstance(seq, int):
            self.lines_seq = seq
        self.queues = list(payload.get(protocol.KEY_QUEUES) or self.queues)
        self.lines = dict(payload.get(protocol.KEY_LINES) or self.lines)

    @property
    def served_queues(self) -> list[str]:
        return list(self.counter.get("queues") or [])

    @property
    def queue_codes(self) -> set[str]:
        return {str(queue.get("code")) for queue in self.queues}

    def shown(self) -> Shown:
        """What deserves telling when it changes (not the ever-growing waits)."""
        ticket = self.ticket or {}
        waiting = {str(queue.get("code")): queue.get("waiting") for queue in self.queues}
        return Shown(
            state=self.counter.get("state"),
            pause_reason=self.counter.get("pause_reason"),
            clerk_name=self.counter.get("clerk_name"),
            ticket=ticket.get("number"),
            ticket_state=ticket.get("state"),
            ticket_step=ticket.get("step"),
            waiting=tuple((code, waiting.get(code, 0)) for code in self.served_queues),
            held=tuple((entry.get("number"), entry.get("reason") or "") for entry in self.held),
            missed=tuple(entry.get("number") for entry in self.missed),
        )


@dataclass(frozen=True)
class Shown:
    """The parts of a counter the client reports a change of, one line each."""

    state: Any = None
    pause_reason: Any = None
    clerk_name: Any = None
    ticket: Any = None
    ticket_state: Any = None
    ticket_step: Any = None
    waiting: tuple[tuple[str, Any], ...] = ()
    held: tuple[tuple[Any, str], ...] = ()
    missed: tuple[Any, ...] = ()


def duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "–"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _word(lang: str, prefix: str, value: Any) -> str:
    try:
        return translate(f"{prefix}_{value}", lang)
    except KeyError:
        return str(value)


def state_words(lang: str, state: Any, pause_reason: Any) -> str:
    """暂停服务 · 午休: the counter's state, and why when paused with a reason."""
    words = _word(lang, "state", state)
    return f"{words} · {pause_reason}" if state == "paused" and pause_reason else words


def ticket_words(
    ticket: dict[str, Any], lang: str, names: dict[str, str] | None = None
) -> list[str]:
    """The ticket in hand: number, state, party, headcount, businesses, plan, reason."""
    names = names or {}

    def t(key: str, **values: Any) -> str:
        return translate(key, lang, **values)

    details = [str(ticket.get("number")), _word(lang, "ticket", ticket.get("state"))]
    if ticket.get("party"):
        details.append(_word(lang, "party", ticket["party"]))
    if ticket.get("headcount"):
        details.append(t("people", count=ticket["headcount"]))
    if ticket.get("priority") == "green":
        details.append(t("priority_green"))
    details.append("、".join(names.get(code, str(code)) for code in ticket.get("services") or []))
    details.append(t("step_of", step=ticket.get("step"), total=ticket.get("steps_total")))
    reason = ticket.get("reason")
    details.append(
        f"{t('field_reason')}: {_word(lang, 'reason', reason) if reason else t('reason_none')}"
    )
    if ticket.get("visitor_id_masked"):
        details.append(str(ticket["visitor_id_masked"]))
    return [part for part in details if part]


def held_words(held: Iterable[tuple[Any, str]]) -> str:
    return " ".join(f"{number}({reason})" for number, reason in held)


def _folded(text: str) -> str:
    """For comparing names: full-width and case folded, spaces and middle dots dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s·・.]+", "", folded)


def find_code(
    text: str, rows: Iterable[dict[str, Any]], keys: tuple[str, ...] = ("code", "name", "name_en")
) -> str | None:
    """The code of the row (a business or a line) whose code, `name` or `name_en` (the
    `keys`) is `text`; None when none is, or when several are."""
    wanted = _folded(text)
    if not wanted:
        return None
    found = {
        str(row["code"])
        for row in rows
        if wanted in {_folded(str(row.get(key) or "")) for key in keys} - {""}
    }
    return found.pop() if len(found) == 1 else None


def changes(
    before: Shown,
    after: Shown,
    state: CounterState,
    lang: str,
    names: dict[str, str] | None = None,
) -> list[str]:
    """One line per part of the counter that changed between two looks (issue 14: what
    changed, not the whole block): the counter's state, its clerk, the ticket in hand, the
    waiting counts of its lines ("排队: A 5人 B 2人"), the held and the missed tickets."""

    def t(key: str, **values: Any) -> str:
        return translate(key, lang, **values)

    out = []
    if (before.state, before.pause_reason) != (after.state, after.pause_reason):
        out.append(f"{t('cli_counter')}: {state_words(lang, after.state, after.pause_reason)}")
    if before.clerk_name != after.clerk_name and after.clerk_name:
        out.append(f"{t('cli_clerk')}: {after.clerk_name}")
    if before.ticket != after.ticket:
        if state.ticket and after.ticket:
            number, ticket_state, *details = ticket_words(state.ticket, lang, names)
            out.append(" · ".join([f"{number} {ticket_state}", *details]))
        else:
            out.append(f"{t('cli_current')}: {t('cli_no_ticket')}")
    elif (before.ticket_state, before.ticket_step) != (after.ticket_state, after.ticket_step):
        if after.ticket:
            out.append(f"{after.ticket} {_word(lang, 'ticket', after.ticket_state)}")
    if before.waiting != after.waiting:
        counts = " ".join(t("cli_queue_count", code=code, count=n) for code, n in after.waiting)
        out.append(f"{t('cli_waiting')}: {counts}")
    if before.held != after.held:
        out.append(f"{t('cli_held')}: {held_words(after.held) or t('none')}")
    if before.missed != after.missed:
        numbers = " ".join(str(number) for number in after.missed)
        out.append(f"{t('cli_missed')}: {numbers or t('none')}")
    return out


def render(
    state: CounterState,
    lang: str,
    names: dict[str, str] | None = None,
    line_names: dict[str, str] | None = None,
) -> list[str]:
    """The counter, its ticket in hand and its lines, as a few lines of text; `names` gives
    the businesses' names by code, `line_names` the lines' (else the server's)."""
    names = names or {}
    line_names = line_names or {}

    def t(key: str, **values: Any) -> str:
        return translate(key, lang, **values)

    def word(prefix: str, value: Any) -> str:
        return _word(lang, prefix, value)

    counter = state.counter
    clerk = (
        t("clerk_line", name=counter["clerk_name"], clerk_no=counter.get("clerk_no") or "–")
        if counter.get("clerk_name")
        else t("nobody")
    )
    title = " · ".join(
        part
        for part in (
            t("counter_no", number=counter.get("counter", state.number)),
            str(counter.get("counter_name") or ""),
            state_words(lang, counter.get("state"), counter.get("pause_reason")),
            clerk,
        )
        if part
    )
    out = [f"── {title} ──"]
    ticket = state.ticket
    if ticket:
        out.append(f"{t('cli_current')}: " + " · ".join(ticket_words(ticket, lang, names)))
    else:
        out.append(f"{t('cli_current')}: {t('cli_no_ticket')}")
    summaries = {str(queue.get("code")): queue for queue in state.queues}
    for code in state.served_queues:
        summary = summaries.get(code, {})
        entries = state.lines.get(code, [])
        text = (
            f"{t('cli_lines')} {code} {line_names.get(code) or summary.get('name', '')}: "
            f"{t('line_waiting', count=summary.get('waiting', len(entries)))}"
        )
        if entries:
            text += ", " + t("line_longest", time=duration(summary.get("longest_wait_s")))
            numbers = []
            for entry in entries[:6]:
                mark = f"({word('reason', entry['reason'])})" if entry.get("reason") else ""
                numbers.append(f"{entry.get('number')}{mark}")
            text += f"; {t('cli_next')} " + " ".join(numbers)
        out.append(text)
    aside = []
    if state.held:
        aside.append(f"{t('cli_held')}: " + held_words(state.shown().held))
    if state.missed:
        aside.append(f"{t('cli_missed')}: " + " ".join(str(e.get("number")) for e in state.missed))
    if aside:
        out.append("  ".join(aside))
    return out


# -- the client --------------------------------------------------------------------------
@dataclass
class Command:
    action: str
    body: dict[str, Any] | None = None


class TerminalClient:
    def __init__(
        self,
        api: CounterApi,
        counter: int,
        *,
        out: TextIO,
        err: TextIO,
        lang: str = "zh",
        socket_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.api = api
        self.number = counter
        self.out = out
        self.err = err
        self.lang = lang
        self.state = CounterState(counter)
        self._lock = threading.RLock()
        self._printed: Shown | None = None
        self._refresh_timer: threading.Timer | None = None
        self._closing = False
        self._socket_factory = socket_factory or self._make_socket
        self.socket: Any = None
        self.services: list[dict[str, Any]] = []  # code, name, name_en (GET /services)
        self.lines: list[dict[str, Any]] = []  # the hall's lines, likewise (GET /queues)

    # -- output ------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        return translate(key, self.lang, **values)

    def say(self, text: str, *, error: bool = False) -> None:
        with self._lock:
            stream = self.err if error else self.out
            print(text, file=stream, flush=True)

    @property
    def service_names(self) -> dict[str, str]:
        """The businesses' names by code, in the client's language."""
        return {str(row["code"]): self._local_name(row) for row in self.services}

    @property
    def line_names(self) -> dict[str, str]:
        return {str(row["code"]): self._local_name(row) for row in self.lines}

    def _local_name(self, row: dict[str, Any]) -> str:
        if self.lang == "en" and row.get("name_en"):
            return str(row["name_en"])
        return str(row.get("name") or row["code"])

    def show(self, *, force: bool = False) -> None:
        """Print what changed since the last look, one line a part; with `force` (at the
        start, and `l`) the whole counter."""
        with self._lock:
            if self._closing:
                return
            shown = self.state.shown()
            if force or self._printed is None:
                lines = render(self.state, self.lang, self.service_names, self.line_names)
            else:
                lines = changes(self._printed, shown, self.state, self.lang, self.service_names)
            self._printed = shown
            if lines:
                print("\n".join(lines), file=self.out, flush=True)

    def error_words(self, error: ApiError) -> str:
        if error.code == "network":
            return f"{self.t('error_network')}: {error.message}"
        status = f" [{error.status} {error.code}]"
        if self.lang == "en":
            key = f"error_{error.code}"
            try:
                words = self.t(key)
            except KeyError:
                words = self.t("error_other")
            return f"{words} — {error.message}{status}" if error.message else words + status
        return (error.message or self.t("error_other")) + status

    # -- start and stop ----------------------------------------------------------------
    def start(self) -> int | None:
        """Log in, sign in, show the counter and go live. Returns an exit code on failure."""
        try:
            self.api.login()
        except ApiError as error:
            if error.status == 0:
                self.say(
                    self.t("cli_unreachable", server=self.api.server, detail=error.message),
                    error=True,
                )
                return EXIT_UNREACHABLE
            self.say(self.t("cli_login_failed", message=self.error_words(error)), error=True)
            return EXIT_LOGIN
        try:
            self.state.apply_snapshot(self.api.snapshot(self.number))
            payload = self.api.act("sign_in", self.number)
        except ApiError as error:
            if error.status == 404:
                self.say(self.t("cli_counter_unknown", number=self.number), error=True)
            else:
                self.say(
                    self.t(
                        "cli_counter_refused", number=self.number, message=self.error_words(error)
                    ),
                    error=True,
                )
            return EXIT_UNREACHABLE if error.status == 0 else EXIT_COUNTER
        counter = payload.get("counter") or {}
        self.services = self.api.catalogue(protocol.SERVICES_PATH)
        self.lines = self.api.catalogue(protocol.QUEUES_PATH)
        self.say(
            self.t(
                "cli_signed_in",
                clerk=self.api.user.get("name") or self.api.username,
                number=self.number,
                name=counter.get("counter_name", ""),
            )
        )
        self.refresh()
        self.show(force=True)
        self.go_live()
        return None

    def stop(self) -> int:
        """`q` or the end of input: sign out and leave."""
        self._closing = True
        code = EXIT_OK
        try:
            self.api.act("sign_out", self.number)
            self.say(self.t("cli_signed_out", number=self.number))
        except ApiError as error:
            self.say(self.t("cli_sign_out_refused", message=self.error_words(error)), error=True)
            code = EXIT_NOT_SIGNED_OUT
        with self._lock:
            if self._refresh_timer is not None:
                self._refresh_timer.cancel()
        if self.socket is not None:
            try:
                self.socket.disconnect()
            except Exception:  # noqa: BLE001, S110 - leaving anyway
                pass
        return code

    # -- live --------------------------------------------------------------------------
    def _make_socket(self) -> Any:
        return socketio.Client(
            reconnection=True,
            reconnection_delay=1,
            reconnection_delay_max=5,
            handle_sigint=False,
        )

    def go_live(self) -> None:
        client = self._socket_factory()
        self.socket = client
        namespace = protocol.COUNTER_NAMESPACE
        client.on("connect", self._on_connect, namespace=namespace)
        client.on("disconnect", self._on_disconnect, namespace=namespace)
        client.on("connect_error", self._on_connect_error, namespace=namespace)
        client.on(protocol.EVENT_SNAPSHOT, self._on_snapshot, namespace=namespace)
        client.on(protocol.EVENT_COUNTER, self._on_counter, namespace=namespace)
        client.on(protocol.EVENT_TICKET, self._on_ticket, namespace=namespace)
        client.on(protocol.EVENT_QUEUES, self._on_queues, namespace=namespace)
        self._live_lost = False
        try:
            self._connect(client, retry=False)
        except Exception as error:  # noqa: BLE001 - any failure: report, retry in the background
            self.say(self.t("cli_live_failed", detail=error), error=True)
            thread = threading.Thread(
                target=self._connect_quietly, args=(client,), name="live-connect", daemon=True
            )
            thread.start()

    def _connect(self, client: Any, *, retry: bool) -> None:
        client.connect(
            f"{self.api.server}?{protocol.COUNTER_QUERY}={self.number}",
            auth=lambda: {protocol.AUTH_TOKEN: self.api.token},
            transports=list(protocol.TRANSPORTS),
            namespaces=[protocol.COUNTER_NAMESPACE],
            wait_timeout=10,
            retry=retry,
        )

    def _connect_quietly(self, client: Any) -> None:
        try:
            self._connect(client, retry=True)
        except Exception:  # noqa: BLE001, S110 - the reconnection logic keeps trying
            pass

    def _on_connect(self) -> None:
        if self._live_lost:
            self._live_lost = False
            self.say(self.t("cli_live_back"))

    def _on_disconnect(self, *_reason: Any) -> None:
        if not self._closing:
            self._live_lost = True
            self.say(self.t("cli_live_lost"), error=True)

    def _on_connect_error(self, data: Any = None) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        if message == "unauthenticated" and not self._closing:
            # The token expired while we were away: the next attempt carries a new one.
            try:
                self.api.login()
            except ApiError:
                pass

    def _on_snapshot(self, snapshot: dict[str, Any]) -> None:
        with self._lock:
            self.state.apply_snapshot(snapshot)
        self.show()

    def _on_counter(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.state.apply_counter(payload)
        self.show()

    def _on_ticket(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.state.apply_ticket(payload)
        self.show()
        self.schedule_refresh()

    def _on_queues(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.state.apply_queues(payload)
        self.show()
        self.schedule_refresh()  # held and missed, which `queues` does not carry

    def refresh(self) -> None:
        with self._lock:
            self._refresh_timer = None
        if self._closing:
            return
        try:
            snapshot = self.api.snapshot(self.number)
        except ApiError:
            return
        with self._lock:
            self.state.apply_snapshot(snapshot)

    def _refresh_and_show(self) -> None:
        self.refresh()
        self.show()

    def schedule_refresh(self) -> None:
        with self._lock:
            if self._refresh_timer is not None or self._closing:
                return
            timer = threading.Timer(REFRESH_DELAY_S, self._refresh_and_show)
            timer.daemon = True
            self._refresh_timer = timer
            timer.start()

    # -- commands ----------------------------------------------------------------------
    def parse(self, line: str) -> Command | str | None:
        """A command, or the words of a usage problem; None for a blank line."""
        text = line.strip()
        if not text:
            return None
        letter, _, rest = text.partition(" ")
        rest = rest.strip()
        if letter in ("?", "help"):
            return Command("help")
        action = COMMANDS.get(letter.lower())
        if action is None:
            return self.t("cli_unknown_command", command=text)
        if action == "call":
            if not rest:
                return self.t("cli_usage_call")
            return Command("call", {"number": rest.split()[0].upper()})
        if action == "transfer":
            return self._parse_transfer(rest)
        if action == "hold":
            return Command("hold", {"reason": rest or self.t("hold_reason_default")})
        if action == "pause" and rest:
            return Command("pause", {"reason": rest})
        if action == "finish" and rest:
            return Command("finish", {"services": self._service_codes(rest)})
        return Command(action)

    def _service_codes(self, text: str) -> list[str]:
        """`f 社保卡业务,出件领证`, `f card_services`, `f Social insurance`: businesses by name
        (Chinese or English) or code, separated by commas (or spaces between codes)."""
        codes = []
        for part in re.split(r"[,，、;；]", text):
            part = part.strip()
            if not part:
                continue
            code = find_code(part, self.services)
            if code is not None:
                codes.append(code)
                continue
            for word in part.split():
                codes.append(find_code(word, self.services) or word.lower())
        return codes

    def _parse_transfer(self, rest: str) -> Command | str:
        """`t D`, `t 出件` or `t Pickup` (a line by code or name), `t 9` (a counter), `t pickup`
        or `t 出件领证` (a business by code or name); then `front` or `back`."""
        words = rest.split()
        position = None
        if len(words) >= 2 and words[-1].lower() in ("front", "back"):
            position = words.pop().lower()
        if not words:
            return self.t("cli_usage_transfer")
        target = " ".join(words)
        body: dict[str, Any] = {}
        lines = self.lines or self.state.queues
        names = ("name", "name_en")
        # A code before a name: `t pickup` is the business, as it always was.
        line = find_code(target, lines, ("code",))
        service = find_code(target, self.services, ("code",))
        if line is None and service is None:
            line = find_code(target, lines, names)
            service = None if line else find_code(target, self.services, names)
        if target.isdigit():
            body["counter"] = int(target)
        elif line is not None:
            body["queue"] = line
        elif service is not None:
            body["service"] = service
        elif len(words) > 1:
            return self.t("cli_usage_transfer")
        elif len(target) <= 2:
            body["queue"] = target.upper()
        else:
            body["service"] = target.lower()
        if position:
            body["position"] = position
        return Command("transfer", body)

    def execute(self, command: Command) -> None:
        if command.action == "help":
            self.say(self.t("cli_help"))
            return
        if command.action == "list":
            self.refresh()
            self.show(force=True)
            return
        needless = self.needless(command.action)
        if needless is not None:
            self.say(f"✗ {self.t(f'action_{command.action}')}: {needless}", error=True)
            return
        try:
            data = self.api.act(command.action, self.number, command.body)
        except ApiError as error:
            label = self.t(f"action_{command.action}")
            self.say(f"✗ {label}: {self.error_words(error)}", error=True)
            self._refresh_and_show()
            return
        self.say("✓ " + self.result_words(command, data))
        self._refresh_and_show()

    def needless(self, action: str) -> str | None:
        """Why `u` or `p` would change nothing (the counter is not paused, or is already),
        in words that say what to type instead; None when it may go to the server."""
        state = self.state.counter.get("state")
        if action == "resume" and state == "open":
            return self.t("cli_not_paused")
        if action == "pause" and state == "paused":
            return self.t("cli_already_paused")
        return None

    def result_words(self, command: Command, data: dict[str, Any]) -> str:
        ticket = data.get("ticket")
        if command.action == "call_next" and ticket is None:
            return self.t("nobody_waiting")
        number = ticket.get("number") if isinstance(ticket, dict) else ""
        queue = ticket.get("queue") if isinstance(ticket, dict) else ""
        return self.t(f"done_{command.action}", number=number, queue=queue)

    def run(self, lines: TextIO) -> int:
        """Read commands until `q` or the end of input (then as `q`)."""
        try:
            for line in iter(lines.readline, ""):
                parsed = self.parse(line)
                if parsed is None:
                    continue
                if isinstance(parsed, str):
                    self.say(parsed, error=True)
                    continue
                if parsed.action == "quit":
                    break
                self.execute(parsed)
        except KeyboardInterrupt:
            pass
        return self.stop()
