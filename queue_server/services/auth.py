"""Staff sign-in: hashed passwords from the hall file, signed expiring bearer tokens, and
their revocation: each token names its login, and a logout writes that login into
`revoked_logins`, which every process reads on each use of a token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Engine, bindparam, delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from queue_server.config import HallConfig, UserConfig
from queue_server.db import READONLY
from queue_server.errors import Unauthenticated
from queue_server.models import RevokedLogin

TOKEN_SALT = "yihao-staff-token"  # noqa: S105 - a salt name, not a secret
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo password, refused off loopback


@dataclass(frozen=True)
class StaffDirectory:
    hall: HallConfig
    password_hashes: dict[str, str]
    serializer: URLSafeTimedSerializer
    token_max_age_s: int
    is_revoked: Callable[[str], bool] = field(default=lambda _login: False)

    @classmethod
    def build(
        cls,
        hall: HallConfig,
        secret: bytes,
        token_max_age_s: int,
        engine: Engine | None = None,
    ) -> StaffDirectory:
        hashes = {
            user.username: user.password_hash or generate_password_hash(user.password or "")
            for user in hall.users
        }
        serializer = URLSafeTimedSerializer(secret, salt=TOKEN_SALT)
        if engine is None:
            return cls(hall, hashes, serializer, token_max_age_s)
        return cls(hall, hashes, serializer, token_max_age_s, _revocations(engine))

    def authenticate(self, username: str, password: str) -> UserConfig:
        user = self.hall.user(username)
        known_hash = self.password_hashes.get(username)
        if user is None or known_hash is None or not check_password_hash(known_hash, password):
            raise Unauthenticated("用户名或密码错误")
        return user

    def issue_token(self, user: UserConfig, login_id: str | None = None) -> str:
        """A token for `user`, of the login `login_id` (a browser session's), else of a login
        of its own (the API's)."""
        return self.serializer.dumps({"u": user.username, "l": login_id or new_login_id()})

    def user_for_token(self, token: str) -> UserConfig:
        return self.login_of_token(token)[0]

    def login_of_token(self, token: str) -> tuple[UserConfig, str]:
        """The user of a token and the login it belongs to; 401 when it is expired, forged,
        of an unknown user or of a login that was logged out."""
        try:
            data = self.serializer.loads(token, max_age=self.token_max_age_s)
        except SignatureExpired:
            raise Unauthenticated("登录已过期，请重新登录") from None
        except BadSignature:
            raise Unauthenticated("登录凭证无效，请重新登录") from None
        if not isinstance(data, dict) or not isinstance(data.get("l"), str):
            raise Unauthenticated("登录凭证无效，请重新登录")
        user = self.hall.user(data.get("u", ""))
        if user is None:
            raise Unauthenticated("登录凭证无效，请重新登录")
        if self.is_revoked(data["l"]):
            raise Unauthenticated("已退出登录，请重新登录")
        return user, data["l"]

    def users_with_demo_password(self) -> list[str]:
        return [
            username
            for username, known_hash in self.password_hashes.items()
            if check_password_hash(known_hash, DEMO_PASSWORD)
        ]


def new_login_id() -> str:
    return secrets.token_urlsafe(16)


REVOKED = select(RevokedLogin.login_id).where(RevokedLogin.login_id == bindparam("login"))


def _revocations(engine: Engine) -> Callable[[str], bool]:
    """Every staff request asks this once: one statement on a pooled connection, no ORM
    session, and on PostgreSQL in autocommit: the pool's ping and the SELECT, where a
    session's transaction added BEGIN and ROLLBACK (`python -m bench.request_cost`: 0.75–0.87
    → 0.29–0.39 ms of CPU). SQLite reads in a deferred transaction, never the write lock."""
    options: dict[str, object] = {READONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    checking = engine.execution_options(**options)

    def is_revoked(login_id: str) -> bool:
        with checking.connect() as connection:
            return connection.scalar(REVOKED, {"login": login_id}) is not None

    return is_revoked


def revoke_login(session: Session, login_id: str, token_max_age_s: int) -> None:
    """End a login on every process (its tokens are refused from the next request on), and
    forget the revocations whose tokens have expired by themselves."""
    now = datetime.now(UTC)
    session.execute(delete(RevokedLogin).where(RevokedLogin.expires_at < now))
    if session.get(RevokedLogin, login_id) is None:
        expires_at = now + timedelta(seconds=token_max_age_s + 60)
        session.add(RevokedLogin(login_id=login_id, expires_at=expires_at))
    session.flush()
