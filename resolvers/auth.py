"""Authentication mutations: thin adapters from GraphQL to services.accounts/sessions."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from models.user import User
from resolvers.invalidation import users_changed
from services import accounts, events, notifications, sessions
from services.errors import BadUserInput
from services.sessions import IssuedSession
from vocabulary.context import Context, Info
from vocabulary.inputs import RegisterInput


@dataclass(frozen=True, slots=True)
class SessionTokens:
    """What ``login`` and ``refreshToken`` answer: the ``AuthPayload`` type reads these
    attributes, as the other types read their models'."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: User


def _cookie_response(context: Context) -> Response:
    response = context.response
    if not isinstance(response, Response):
        raise BadUserInput("Cookie mode needs an HTTP request")
    return response


def _payload(context: Context, session: IssuedSession, use_cookie: bool) -> SessionTokens:
    # The rest of this operation speaks to the new session (its `user` shows own fields).
    context.user = session.user
    refresh_token = session.refresh_token
    if use_cookie:
        settings = context.settings
        _cookie_response(context).set_cookie(
            settings.refresh_cookie_name,
            session.refresh_token,
            max_age=settings.refresh_token_ttl_seconds,
            path="/graphql",
            httponly=True,
            secure=settings.is_production,
            samesite="strict",
        )
        refresh_token = ""
    return SessionTokens(
        access_token=session.access_token,
        refresh_token=refresh_token,
        token_type="Bearer",  # noqa: S106 - the token type, not a secret
        expires_in=session.expires_in,
        user=session.user,
    )


def refresh_cookie(request: Request | WebSocket, name: str) -> str | None:
    """The refresh cookie, honoured only in an HTTP POST. Never in a GET: a cross-site page
    can make a browser send one with the cookie attached (links, images, prefetches), so a
    GET must not act on it. Never on a websocket: its handshake is a GET, and no new cookie
    can be set there."""
    if not isinstance(request, Request) or request.method != "POST":
        return None
    return request.cookies.get(name)


def _refresh_token_from(context: Context, argument: str | None) -> tuple[str, bool]:
    """The refresh token from the argument, else from the cookie; and whether it was the
    cookie (the new one then goes back into it)."""
    if argument:
        return argument, False
    cookie = refresh_cookie(context.request, context.settings.refresh_cookie_name)
    if not cookie:
        raise BadUserInput(
            "Pass `refreshToken`, or send the refresh cookie in a POST request "
            "(it is never read from a GET or a websocket)"
        )
    return cookie, True


async def register(info: Info, data: RegisterInput) -> User:
    context = info.context
    return await accounts.register(
        context.container, data.name, data.email, data.password, context.client
    )


async def verify_email(info: Info, token: str) -> User:
    user = await accounts.verify_email(info.context.container, token)
    await users_changed(info, [user.id])
    await notifications.on_email_verified(info.context.container, user)
    return user


async def resend_verification_email(info: Info, email: str) -> bool:
    await accounts.resend_verification(info.context.container, email, info.context.client)
    return True


async def login(info: Info, email: str, password: str, use_cookie: bool) -> SessionTokens:
    context = info.context
    session = await accounts.login(context.container, email, password, context.client)
    return _payload(context, session, use_cookie)


async def refresh_token(info: Info, refresh_token: str | None) -> SessionTokens:
    context = info.context
    token, from_cookie = _refresh_token_from(context, refresh_token)
    session = await sessions.rotate(context.settings, token, context.client)
    return _payload(context, session, from_cookie)


async def logout(info: Info, refresh_token: str | None) -> bool:
    context = info.context
    token, from_cookie = _refresh_token_from(context, refresh_token)
    await sessions.end_session(context.settings, token, context.client)
    if from_cookie:
        settings = context.settings
        _cookie_response(context).delete_cookie(
            settings.refresh_cookie_name,
            path="/graphql",
            httponly=True,
            secure=settings.is_production,
            samesite="strict",
        )
    return True


async def logout_all(info: Info) -> bool:
    user = info.context.require_user()
    await accounts.end_all_sessions(user, info.context.client)
    await events.sessions_ended(info.context.container.pubsub, user.id)
    return True


async def request_password_reset(info: Info, email: str) -> bool:
    await accounts.request_password_reset(info.context.container, email, info.context.client)
    return True


async def reset_password(info: Info, token: str, new_password: str) -> bool:
    await accounts.reset_password(info.context.container, token, new_password, info.context.client)
    return True


async def change_password(info: Info, current_password: str, new_password: str) -> bool:
    context = info.context
    await accounts.change_password(
        context.container,
        context.require_user(),
        current_password,
        new_password,
        context.session_id,
        context.client,
    )
    return True
