"""bench/answers.py: the feed page answered by ours (``posts { edges { node } }``) and by
PostGraphile (``allPosts { nodes }``) reduces to the same values, and any difference in
titles, names, counts or comments (order included) is reported where it first occurs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench.answers import (
    AnswerShapeError,
    FeedComment,
    FeedPost,
    feed_from_ours,
    feed_from_postgraphile,
    first_difference,
)

PAGE = [
    ("Getting started with film", "Zoe Zhou", 8, [("Great write-up!", "Pia"), ("Why?", "Bo")]),
    ("Woodwork basics", "Chen Larsen", 0, []),
]


def ours_answer(page: list[Any]) -> dict[str, Any]:
    return {
        "posts": {
            "edges": [
                {
                    "node": {
                        "title": title,
                        "author": {"name": author},
                        "commentCount": count,
                        "comments": {
                            "edges": [
                                {"node": {"body": body, "author": {"name": name}}}
                                for body, name in comments
                            ]
                        },
                    }
                }
                for title, author, count, comments in page
            ]
        }
    }


def postgraphile_answer(page: list[Any]) -> dict[str, Any]:
    return {
        "allPosts": {
            "nodes": [
                {
                    "title": title,
                    "userByAuthorId": {"name": author},
                    "commentsByPostId": {
                        "totalCount": count,
                        "nodes": [
                            {"body": body, "userByAuthorId": {"name": name}}
                            for body, name in comments
                        ],
                    },
                }
                for title, author, count, comments in page
            ]
        }
    }


def test_both_shapes_reduce_to_the_same_posts_in_order() -> None:
    expected = [
        FeedPost(
            "Getting started with film",
            "Zoe Zhou",
            8,
            (FeedComment("Great write-up!", "Pia"), FeedComment("Why?", "Bo")),
        ),
        FeedPost("Woodwork basics", "Chen Larsen", 0, ()),
    ]

    assert feed_from_ours(ours_answer(PAGE)) == expected
    assert feed_from_postgraphile(postgraphile_answer(PAGE)) == expected


def test_equal_answers_have_no_difference() -> None:
    ours = feed_from_ours(ours_answer(PAGE))
    theirs = feed_from_postgraphile(postgraphile_answer(PAGE))

    assert first_difference(ours, theirs) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda page: page[1].__setitem__(0, "Other title"), "post 1: title 'Other title'"),
        (lambda page: page[0].__setitem__(1, "Someone"), "post 0: author 'Someone'"),
        (lambda page: page[0].__setitem__(2, 7), "post 0: comment_count 7, expected 8"),
        (lambda page: page[0][3].reverse(), "post 0: comments"),
        (lambda page: page[0][3].pop(), "post 0: comments"),
        (lambda page: page[0][3].__setitem__(1, ("Why?", "Pia")), "post 0: comments"),
    ],
    ids=["title", "author", "count", "comment order", "missing comment", "comment author"],
)
def test_a_changed_field_is_reported_at_the_first_post_that_differs(
    change: Any, message: str
) -> None:
    page = copy.deepcopy([list(post) for post in PAGE])
    change(page)

    difference = first_difference(
        feed_from_ours(ours_answer(PAGE)), feed_from_postgraphile(postgraphile_answer(page))
    )

    assert difference is not None
    assert difference.startswith(message)


def test_the_same_posts_in_another_order_differ() -> None:
    difference = first_difference(
        feed_from_ours(ours_answer(PAGE)),
        feed_from_postgraphile(postgraphile_answer(list(reversed(PAGE)))),
    )

    assert difference == "post 0: title 'Woodwork basics', expected 'Getting started with film'"


def test_a_shorter_page_is_reported_with_both_lengths() -> None:
    difference = first_difference(
        feed_from_ours(ours_answer(PAGE)), feed_from_postgraphile(postgraphile_answer(PAGE[:1]))
    )

    assert difference == "1 posts, expected 2"


def test_a_missing_field_names_its_path() -> None:
    answer = postgraphile_answer(PAGE)
    del answer["allPosts"]["nodes"][0]["commentsByPostId"]["nodes"][1]["userByAuthorId"]

    with pytest.raises(
        AnswerShapeError, match=r"allPosts\.nodes\[0\]\.commentsByPostId\.nodes\[1\]"
    ):
        feed_from_postgraphile(answer)


def test_a_null_author_is_a_shape_error() -> None:
    answer = ours_answer(PAGE)
    answer["posts"]["edges"][1]["node"]["author"] = None

    with pytest.raises(AnswerShapeError, match=r"edges\[1\]\.node\.author\.name is missing"):
        feed_from_ours(answer)


@pytest.mark.parametrize("count", ["8", True, 8.0, None])
def test_a_count_that_is_not_an_integer_is_a_shape_error(count: Any) -> None:
    answer = ours_answer(PAGE)
    answer["posts"]["edges"][0]["node"]["commentCount"] = count

    with pytest.raises(AnswerShapeError, match="commentCount is not an integer"):
        feed_from_ours(answer)


def test_a_list_where_an_object_is_expected_is_a_shape_error() -> None:
    with pytest.raises(AnswerShapeError, match=r"data\.allPosts\.nodes is not a list"):
        feed_from_postgraphile({"allPosts": {"nodes": {"title": "x"}}})
