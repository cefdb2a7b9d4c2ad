"""Staff sign-in: hashed passwords from the hall file, signed expiring bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from queue_server.config import HallConfig, UserConfig
from queue_server.errors import Unauthenticated

TOKEN_SALT = "yihao-staff-token"  # noqa: S105 - a salt name, not a secret
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo password, refused off loopback


@dataclass(frozen=True)
class StaffDirectory:
    hall: HallConfig
    password_hashes: dict[str, str]
    serializer: URLSafeTimedSerializer
    token_max_age_s: int

    @classmethod
    def build(cls, hall: HallConfig, secret: bytes, token_max_age_s: int) -> StaffDirectory:
        hashes = {
            user.username: user.password_hash or generate_password_hash(user.password or "")
            for user in hall.users
        }
        return cls(hall, hashes, URLSafeTimedSerializer(secret, salt=TOKEN_SALT), token_max_age_s)

    def authenticate(self, username: str, password: str) -> UserConfig:
        user = self.hall.user(username)
        known_hash = self.password_hashes.get(username)
        if user is None or known_hash is None or not check_password_hash(known_hash, password):
            raise Unauthenticated("用户名或密码错误")
        return user

    def issue_token(self, user: UserConfig) -> str:
        return self.serializer.dumps({"u": user.username})

    def user_for_token(self, token: str) -> UserConfig:
        try:
            data = self.serializer.loads(token, max_age=self.token_max_age_s)
        except SignatureExpired:
            raise Unauthenticated("登录已过期，请重新登录") from None
        except BadSignature:
            raise Unauthenticated("登录凭证无效，请重新登录") from None
        user = self.hall.user(data.get("u", "")) if isinstance(data, dict) else None
        if user is None:
            raise Unauthenticated("登录凭证无效，请重新登录")
        return user

    def users_with_demo_password(self) -> list[str]:
        return [
            username
            for username, known_hash in self.password_hashes.items()
            if check_password_hash(known_hash, DEMO_PASSWORD)
        ]
