"""The feed page as plain values, so that answers of different shapes can be compared.

Ours (and the naive and floor apps) answer ``posts { edges { node { … } } }`` with
``commentCount`` and ``comments { edges { node } }``; PostGraphile answers ``allPosts { nodes
{ … } }`` with ``userByAuthorId`` and ``commentsByPostId { totalCount nodes }``. Both reduce
to the same list of :class:`FeedPost`, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AnswerShapeError(ValueError):
    """An answer is missing a field of the benchmark query or has one of the wrong type."""


@dataclass(frozen=True)
class FeedComment:
    body: str
    author: str


@dataclass(frozen=True)
class FeedPost:
    title: str
    author: str
    comment_count: int
    comments: tuple[FeedComment, ...]


def _field(value: Any, name: str, path: str) -> Any:
    if not isinstance(value, dict) or name not in value:
        raise AnswerShapeError(f"{path}.{name} is missing")
    return value[name]


def _text(value: Any, name: str, path: str) -> str:
    found = _field(value, name, path)
    if not isinstance(found, str):
        raise AnswerShapeError(f"{path}.{name} is not a string: {found!r}")
    return found


def _list(value: Any, name: str, path: str) -> list[Any]:
    found = _field(value, name, path)
    if not isinstance(found, list):
        raise AnswerShapeError(f"{path}.{name} is not a list: {found!r}")
    return found


def _count(value: Any, name: str, path: str) -> int:
    found = _field(value, name, path)
    # bool is an int in Python; a count of True is still the wrong answer.
    if not isinstance(found, int) or isinstance(found, bool):
        raise AnswerShapeError(f"{path}.{name} is not an integer: {found!r}")
    return found


def feed_from_ours(data: Any) -> list[FeedPost]:
    """``data`` of bench.queries.NESTED_QUERY as answered by ours, naive and floor."""
    posts = []
    for index, edge in enumerate(_list(_field(data, "posts", "data"), "edges", "data.posts")):
        path = f"data.posts.edges[{index}].node"
        node = _field(edge, "node", f"data.posts.edges[{index}]")
        comments = []
        for position, comment_edge in enumerate(
            _list(_field(node, "comments", path), "edges", f"{path}.comments")
        ):
            comment_path = f"{path}.comments.edges[{position}].node"
            comment = _field(comment_edge, "node", comment_path.removesuffix(".node"))
            comments.append(
                FeedComment(
                    body=_text(comment, "body", comment_path),
                    author=_text(_field(comment, "author", comment_path), "name", comment_path),
                )
            )
        posts.append(
            FeedPost(
                title=_text(node, "title", path),
                author=_text(_field(node, "author", path), "name", f"{path}.author"),
                comment_count=_count(node, "commentCount", path),
                comments=tuple(comments),
            )
        )
    return posts


def feed_from_postgraphile(data: Any) -> list[FeedPost]:
    """``data`` of bench.queries.POSTGRAPHILE_QUERY as answered by PostGraphile."""
    posts = []
    for index, node in enumerate(_list(_field(data, "allPosts", "data"), "nodes", "data.allPosts")):
        path = f"data.allPosts.nodes[{index}]"
        page = _field(node, "commentsByPostId", path)
        comments = []
        for position, comment in enumerate(_list(page, "nodes", f"{path}.commentsByPostId")):
            comment_path = f"{path}.commentsByPostId.nodes[{position}]"
            comments.append(
                FeedComment(
                    body=_text(comment, "body", comment_path),
                    author=_text(
                        _field(comment, "userByAuthorId", comment_path),
                        "name",
                        f"{comment_path}.userByAuthorId",
                    ),
                )
            )
        posts.append(
            FeedPost(
                title=_text(node, "title", path),
                author=_text(
                    _field(node, "userByAuthorId", path), "name", f"{path}.userByAuthorId"
                ),
                comment_count=_count(page, "totalCount", f"{path}.commentsByPostId"),
                comments=tuple(comments),
            )
        )
    return posts


def first_difference(expected: list[FeedPost], actual: list[FeedPost]) -> str | None:
    """Where ``actual`` first differs from ``expected`` (post by post, in order), or None
    when they are equal."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            for name in ("title", "author", "comment_count", "comments"):
                if getattr(want, name) != getattr(got, name):
                    return (
                        f"post {index}: {name} {getattr(got, name)!r}, "
                        f"expected {getattr(want, name)!r}"
                    )
    if len(expected) != len(actual):
        return f"{len(actual)} posts, expected {len(expected)}"
    return None
