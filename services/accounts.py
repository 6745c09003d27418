"""Registration, email verification, login and passwords."""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.metrics import LOGIN_FAILURES
from models.audit import AuditAction
from models.auth import OneTimeToken, OneTimeTokenPurpose
from models.user import Role, User, UserStatus
from services import audit, sessions
from services.emails import RESET_PASSWORD_PATH, VERIFY_EMAIL_PATH, app_link, queue_email
from services.errors import BadUserInput, Conflict, EmailNotVerified, Forbidden, Unauthenticated
from services.mail import format_duration
from services.password_pool import PasswordPoolBusy
from services.passwords import PasswordHasher
from services.sessions import ClientInfo, IssuedSession
from services.tokens import hash_secret, new_secret, stored_hash_filter
from services.validation import Problems, check_email, check_name, check_password

if TYPE_CHECKING:
    from core.settings import Settings
    from services.jobs import JobQueue
    from services.password_pool import PasswordPool
    from services.throttle import AttemptLimiter

INVALID_CREDENTIALS = "Invalid email or password"


class InvalidCredentials(Unauthenticated):
    default_message = INVALID_CREDENTIALS


class AccountDependencies(Protocol):
    """What the account flows use of the process's shared services."""

    @property
    def settings(self) -> Settings: ...

    @property
    def password_pool(self) -> PasswordPool: ...

    @property
    def jobs(self) -> JobQueue: ...  # the emails

    @property
    def login_limiter(self) -> AttemptLimiter: ...

    @property
    def account_email_limiter(self) -> AttemptLimiter: ...


async def _issue_one_time_token(
    settings: Settings, user: User, purpose: OneTimeTokenPurpose, ttl_seconds: int
) -> str:
    """A fresh token; earlier unused tokens of the same purpose stop working."""
    now = datetime.now(UTC)
    await OneTimeToken.filter(user_id=user.id, purpose=purpose, used_at=None).update(used_at=now)
    secret = new_secret()
    await OneTimeToken.create(
        user=user,
        purpose=purpose,
        token_hash=hash_secret(settings, secret),
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    return secret


async def _consume_one_time_token(
    settings: Settings, secret: str, purpose: OneTimeTokenPurpose
) -> User:
    """Mark the token used (once, even under concurrency) and return its user."""
    now = datetime.now(UTC)
    token = await OneTimeToken.get_or_none(
        **stored_hash_filter(settings, secret), purpose=purpose
    ).select_related("user")
    used = 0
    if (
        token is not None
        and token.expires_at > now
        and token.user.deleted_at is None
        and token.user.status is not UserStatus.SUSPENDED
    ):
        used = await OneTimeToken.filter(id=token.id, used_at=None).update(used_at=now)
    if token is None or not used:
        raise BadUserInput("The token is invalid, expired or already used", argument="token")
    return token.user


async def register(
    deps: AccountDependencies, name: str, email: str, password: str, client: ClientInfo
) -> User:
    problems = Problems()
    name = check_name(problems, "input.name", name)
    email = check_email(problems, "input.email", email)
    check_password(problems, "input.password", password)
    problems.raise_if_any()
    if await User.filter(email=email).exists():
        raise Conflict("An account with this email already exists", field="input.email")
    password_hash = await deps.password_pool.hash(password)
    try:
        async with in_transaction():
            user = await User.create(
                name=name,
                email=email,
                password_hash=password_hash,
                status=UserStatus.PENDING_VERIFICATION,
            )
            secret = await _issue_one_time_token(
                deps.settings,
                user,
                OneTimeTokenPurpose.VERIFY_EMAIL,
                deps.settings.email_verification_ttl_seconds,
            )
            await audit.record(AuditAction.REGISTERED, actor_id=user.id, ip=client.ip)
    except IntegrityError as exc:  # a concurrent registration took the email
        raise Conflict("An account with this email already exists", field="input.email") from exc
    await _queue_verification(deps, user, secret)
    return user


async def _queue_verification(deps: AccountDependencies, user: User, secret: str) -> None:
    await queue_email(
        deps.jobs,
        "verify_email",
        user.email,
        name=user.name,
        link=app_link(deps.settings, VERIFY_EMAIL_PATH, token=secret),
        valid_for=format_duration(deps.settings.email_verification_ttl_seconds),
    )


async def verify_email(deps: AccountDependencies, secret: str) -> User:
    async with in_transaction():
        user = await _consume_one_time_token(
            deps.settings, secret, OneTimeTokenPurpose.VERIFY_EMAIL
        )
        if user.status is UserStatus.PENDING_VERIFICATION:
            user.status = UserStatus.ACTIVE
            user.email_verified_at = datetime.now(UTC)
            await user.save(update_fields=["status", "email_verified_at", "updated_at"])
            await audit.record(AuditAction.EMAIL_VERIFIED, actor_id=user.id)
    return user


async def resend_verification(deps: AccountDependencies, email: str, client: ClientInfo) -> None:
    """Always succeeds silently: whether the account exists is not revealed."""
    await deps.account_email_limiter.check_and_count(email, client.ip or "")
    user = await User.get_or_none(email=email.strip().lower(), deleted_at=None)
    if user is None or user.status is not UserStatus.PENDING_VERIFICATION:
        return
    async with in_transaction():
        secret = await _issue_one_time_token(
            deps.settings,
            user,
            OneTimeTokenPurpose.VERIFY_EMAIL,
            deps.settings.email_verification_ttl_seconds,
        )
    await _queue_verification(deps, user, secret)


async def login(
    deps: AccountDependencies, email: str, password: str, client: ClientInfo
) -> IssuedSession:
    limiter = deps.login_limiter
    ip = client.ip or ""
    # Counted as a failure before the password is checked, and given back when it is right:
    # parallel guesses cannot all slip past the limit before the first one is counted.
    await limiter.check_and_count(email, ip, "Too many attempts; try again later")
    user = await User.get_or_none(email=email.strip().lower(), deleted_at=None)
    pool = deps.password_pool
    try:
        # Verify even without a user (against a dummy hash): both failures take the same time.
        valid = await pool.verify(user.password_hash if user else None, password)
    except PasswordPoolBusy:
        await limiter.uncount(email, ip)  # not checked, so not a failed attempt
        raise
    if user is None or not valid:
        LOGIN_FAILURES.inc()
        await audit.record(
            AuditAction.LOGIN_FAILED, target_id=user.id if user else None, ip=client.ip
        )
        raise InvalidCredentials()
    await limiter.uncount(email, ip)
    if user.status is UserStatus.PENDING_VERIFICATION:
        raise EmailNotVerified()
    if user.status is UserStatus.SUSPENDED:
        raise Forbidden("This account is suspended")
    if pool.needs_rehash(user.password_hash):
        with suppress(PasswordPoolBusy):  # upgraded at a later login
            user.password_hash = await pool.hash(password)
            await user.save(update_fields=["password_hash", "updated_at"])
    session = await sessions.start_session(deps.settings, user, client)
    await audit.record(AuditAction.LOGIN, actor_id=user.id, ip=client.ip)
    return session


async def request_password_reset(deps: AccountDependencies, email: str, client: ClientInfo) -> None:
    """Always succeeds silently: whether the account exists is not revealed."""
    await deps.account_email_limiter.check_and_count(email, client.ip or "")
    user = await User.get_or_none(email=email.strip().lower(), deleted_at=None)
    if user is None or user.status is UserStatus.SUSPENDED:
        return
    async with in_transaction():
        secret = await _issue_one_time_token(
            deps.settings,
            user,
            OneTimeTokenPurpose.RESET_PASSWORD,
            deps.settings.password_reset_ttl_seconds,
        )
        await audit.record(AuditAction.PASSWORD_RESET_REQUESTED, target_id=user.id, ip=client.ip)
    await queue_email(
        deps.jobs,
        "reset_password",
        user.email,
        name=user.name,
        link=app_link(deps.settings, RESET_PASSWORD_PATH, token=secret),
        valid_for=format_duration(deps.settings.password_reset_ttl_seconds),
    )


async def reset_password(
    deps: AccountDependencies, secret: str, new_password: str, client: ClientInfo
) -> None:
    problems = Problems()
    check_password(problems, "newPassword", new_password)
    problems.raise_if_any()
    password_hash = await deps.password_pool.hash(new_password)
    async with in_transaction():
        user = await _consume_one_time_token(
            deps.settings, secret, OneTimeTokenPurpose.RESET_PASSWORD
        )
        await _set_password_and_end_sessions(user, password_hash)
        await audit.record(AuditAction.PASSWORD_RESET, target_id=user.id, ip=client.ip)
    await queue_email(deps.jobs, "password_changed", user.email, name=user.name)


async def end_all_sessions(user: User, client: ClientInfo) -> None:
    """Log out everywhere: all refresh tokens revoked, all access tokens dead at once."""
    async with in_transaction():
        await User.filter(id=user.id).update(token_version=F("token_version") + 1)
        await sessions.revoke_all(user.id)
        await audit.record(AuditAction.LOGOUT_ALL, actor_id=user.id, ip=client.ip)


async def _set_password_and_end_sessions(user: User, password_hash: str) -> None:
    """New password; every access token and refresh token of the user stops working."""
    await User.filter(id=user.id).update(
        password_hash=password_hash,
        token_version=F("token_version") + 1,
        updated_at=datetime.now(UTC),
    )
    await sessions.revoke_all(user.id)


async def change_password(
    deps: AccountDependencies,
    user: User,
    current_password: str,
    new_password: str,
    session_id: uuid.UUID | None,
    client: ClientInfo,
) -> None:
    """New password. Every access token stops working at once (token version bump) and
    every other session loses its refresh token; this session keeps its refresh token, so
    the client refreshes once to get an access token for the new version."""
    problems = Problems()
    if not await deps.password_pool.verify(user.password_hash, current_password):
        problems.add("currentPassword", "The current password is incorrect")
    check_password(problems, "newPassword", new_password)
    if current_password == new_password:
        problems.add("newPassword", "The new password must differ from the current one")
    problems.raise_if_any()
    password_hash = await deps.password_pool.hash(new_password)
    async with in_transaction():
        await User.filter(id=user.id).update(
            password_hash=password_hash,
            token_version=F("token_version") + 1,
            updated_at=datetime.now(UTC),
        )
        await sessions.revoke_all(user.id, except_family=session_id)
        await audit.record(AuditAction.PASSWORD_CHANGED, actor_id=user.id, ip=client.ip)
    await queue_email(deps.jobs, "password_changed", user.email, name=user.name)


async def create_active_user(
    passwords: PasswordHasher, name: str, email: str, password: str, role: Role
) -> User:
    """An ACTIVE, verified account (operators' `create-user`; tests). Same validation as
    registration; CONFLICT if the email is taken."""
    problems = Problems()
    name = check_name(problems, "name", name)
    email = check_email(problems, "email", email)
    check_password(problems, "password", password)
    problems.raise_if_any()
    try:
        return await User.create(
            name=name,
            email=email,
            password_hash=passwords.hash(password),
            role=role,
            status=UserStatus.ACTIVE,
            email_verified_at=datetime.now(UTC),
        )
    except IntegrityError as exc:
        raise Conflict("An account with this email already exists", field="email") from exc
