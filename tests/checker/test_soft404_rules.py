"""The soft-404 page rules, one failure mode of issue 16 per test: the false alarms (a 404 that is a
label, a phrase in a listed title or a quoted error), the misses (404 glued to the site name, CJK
title phrases, a page a little over the short-body limit, a short plain-text body) and which
verdicts are ambiguous (left to the random-sibling probe)."""

from __future__ import annotations

import pytest

from curation.checker.classify import classify, page_verdict
from curation.checker.engine import check_url
from curation.checker.fetch import FetchChain, FetchResponse
from curation.checker.outcomes import Hop, Outcome
from tests.checker.conftest import config_for
from tests.checker.servers import page

URL = "https://blog.example/posts/some-post/"
ARTICLE = "<p>" + "A long and useful explanation of the topic at hand. " * 40 + "</p>"
POSTS = "".join(
    f'<li><a href="/p/{i}">Post number {i}: a walk in the hills</a></li>' for i in range(3)
)


def verdict(body: str, *, content_type: str = "text/html; charset=utf-8", url: str = URL):
    response = FetchResponse(
        url=url, status=200, headers={"Content-Type": content_type}, body=body.encode()
    )
    return page_verdict(url, FetchChain(url=url, final_url=url, response=response))


def site_page(title: str, main: str, site: str = "A Blog") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<header><a class='site-title' href='/'>{site}</a><nav><a href='/about/'>About</a></nav>"
        f"</header><main>{main}</main><footer>© 2026 {site}</footer></body></html>"
    )


# False alarms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "h1"),
    [
        ("Tag: 404 | A Blog", "Tag: 404"),
        ("Posts tagged 404 | A Blog", "Posts tagged 404"),
        ("404 - Tags - A Blog", "404"),
        ("#404 | A Blog", "#404"),
        ("标签: 404 | 小站", "标签: 404"),
    ],
)
def test_a_tag_page_for_the_tag_404_is_not_a_soft_404(title, h1):
    result = verdict(site_page(title, f"<h1>{h1}</h1><ul>{POSTS}</ul>"))

    assert result.outcome == Outcome.OK


def test_a_not_found_phrase_in_a_listed_post_title_on_a_short_page_is_not_a_soft_404():
    listing = (
        "<ul><li><a href='/p/1'>Page Not Found</a></li><li><a href='/p/2'>Winter</a></li></ul>"
    )

    result = verdict(site_page("Poems | A Blog", f"<h1>Poems</h1>{listing}"))

    assert result.outcome == Outcome.OK


@pytest.mark.parametrize(
    "quoted",
    ["zsh: command not found: nvm", "404 Not Found\nnginx/1.24.0", "ModuleNotFoundError: yaml"],
)
def test_an_error_quoted_on_a_short_page_is_not_a_soft_404(quoted):
    main = f"<h1>Notes from today</h1><p>The terminal said:</p><pre><code>{quoted}</code></pre>"

    result = verdict(site_page("Notes from today | A Blog", main))

    assert result.outcome == Outcome.OK


def test_an_http_status_table_on_a_short_page_is_not_a_soft_404():
    table = (
        "<table><tr><td>404</td><td>Not Found</td></tr><tr><td>410</td><td>Gone</td></tr></table>"
    )

    result = verdict(site_page("Status codes | A Blog", f"<h1>Status codes</h1>{table}"))

    assert result.outcome == Outcome.OK


@pytest.mark.parametrize("name", ["404 Club", "Room 404", "HTTP 404"])
def test_a_page_named_after_404_is_not_a_soft_404(name):
    result = verdict(site_page(f"{name} | A Blog", f"<h1>{name}</h1>{ARTICLE}"))

    assert result.outcome == Outcome.OK


def test_a_chinese_tutorial_whose_title_holds_a_not_found_phrase_is_not_a_soft_404():
    title = "解决 Hexo 部署后页面不存在的问题"

    result = verdict(site_page(f"{title} | 小站", f"<h1>{title}</h1>{ARTICLE}", site="小站"))

    assert (result.outcome, result.ambiguous) == (Outcome.OK, True)


def test_a_book_titled_not_found_is_not_a_soft_404():
    result = verdict(
        site_page("Not Found: A Novel | Books", f"<h1>Not Found: A Novel</h1>{ARTICLE}")
    )

    assert (result.outcome, result.ambiguous) == (Outcome.OK, True)


def test_a_short_list_of_http_statuses_is_not_a_soft_404():
    statuses = "<ul><li>200 OK</li><li>301 Moved Permanently</li><li>404 Not Found</li></ul>"

    result = verdict(site_page("Status codes | A Blog", f"<h1>Status codes</h1>{statuses}"))

    assert result.outcome == Outcome.OK


def test_a_tag_page_titled_404_that_lists_posts_is_an_ambiguous_soft_404():
    entries = "".join(
        f"<article><a href='/p/{i}'>Error pages, part {i}</a><time>2026-01-0{i}</time></article>"
        for i in range(1, 5)
    )

    result = verdict(site_page("404 | A Blog", f"<h1>404</h1>{entries}"))

    assert (result.outcome, result.ambiguous) == (Outcome.SOFT_404, True)


# Misses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["404MySite", "MySite 404", "MySite | 404", "404 MySite"])
def test_404_glued_to_the_site_name_is_a_soft_404(title):
    result = verdict(
        site_page(title, f"<p>Nothing to see here.</p><ul>{POSTS}</ul>", site="MySite")
    )

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")


@pytest.mark.parametrize(
    "title",
    [
        "页面没有找到",
        "找不到此页面 | 小站",
        "抱歉，您访问的页面不存在 - 小站",
        "頁面不存在",
        "页面走丢了",
    ],
)
def test_a_chinese_title_phrase_alone_is_a_soft_404(title):
    main = f"<div class='error'><img src='/404.png' alt=''><a href='/'>返回首页</a></div>{ARTICLE}"

    result = verdict(site_page(title, main, site="小站"))

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")


@pytest.mark.parametrize(
    "title", ["ページが見つかりませんでした – ブログ", "페이지를 찾을 수 없습니다 - 블로그"]
)
def test_a_japanese_or_korean_title_phrase_alone_is_a_soft_404(title):
    result = verdict(site_page(title, ARTICLE, site="ブログ"))

    assert result.outcome == Outcome.SOFT_404


def test_a_not_found_page_a_little_over_the_short_body_limit_is_a_soft_404():
    suggestions = "".join(
        f"<li><a href='/p/{i}'>A post about topic {i}, with notes</a></li>" for i in range(16)
    )
    message = "<p>The page you asked for could not be found.</p>"
    main = f"<h1>Well, this is awkward.</h1>{message}<ul>{suggestions}</ul>"

    result = verdict(site_page("Field Notes", main, site="Field Notes"))

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-body")


def test_a_heading_that_spells_four_oh_four_is_a_soft_404():
    result = verdict(
        site_page("Docs", "<h1>That's a Four-Oh-Four.</h1><a href='/'>Take me home</a>")
    )

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-h1")


def test_a_script_heavy_shell_with_the_message_only_in_its_title_is_a_soft_404():
    scripts = "".join(f"<script src='/_next/static/chunks/{i}.js'></script>" for i in range(30))
    head = "<head><title>Oops! Page not found</title></head>"
    body = f"<html>{head}<body><div id='__next'></div>{scripts}</body></html>"

    assert classify(URL, verdict_chain(body)) == (Outcome.SOFT_404, "soft404-title")


def verdict_chain(body: str) -> FetchChain:
    response = FetchResponse(
        url=URL, status=200, headers={"Content-Type": "text/html"}, body=body.encode()
    )
    return FetchChain(url=URL, final_url=URL, response=response)


def test_a_plain_text_200_whose_whole_body_is_404_not_found_is_a_soft_404(server):
    server.routes["/gone"] = page(200, b"404 not found", content_type="text/plain")

    result = check_url(server.url("/gone"), config=config_for(server, probe=False))

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-short-body")


def test_a_long_plain_text_document_that_mentions_not_found_is_ok(server):
    text = b"Release notes.\n" + b"Fixed: a file not found on start-up was not reported.\n" * 200
    server.routes["/notes.txt"] = page(200, text, content_type="text/plain")

    result = check_url(server.url("/notes.txt"), config=config_for(server, probe=False))

    assert result.outcome == Outcome.OK


def test_a_plain_text_body_is_read_only_up_to_its_cap(server):
    server.routes["/big.txt"] = page(200, b"x" * 1_000_000, content_type="text/plain")

    result = check_url(server.url("/big.txt"), config=config_for(server, probe=False))

    assert result.outcome == Outcome.OK


# Ambiguity -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "h1"),
    [("Page not found | A Blog", "Page not found"), ("A Blog", "404"), ("404 | A Blog", "")],
)
def test_a_page_whose_title_or_heading_is_only_an_error_message_is_not_ambiguous(title, h1):
    result = verdict(site_page(title, f"<h1>{h1}</h1>" if h1 else "<p>Try the search.</p>"))

    assert (result.outcome, result.ambiguous) == (Outcome.SOFT_404, False)


def test_a_lone_404_before_a_long_tagline_is_an_ambiguous_soft_404():
    title = "404 - A Blog - notes on learning to program, one evening at a time"

    result = verdict(site_page(title, ARTICLE))

    assert (result.outcome, result.ambiguous) == (Outcome.SOFT_404, True)


def test_a_lone_404_before_a_long_tagline_with_a_heading_agreeing_is_not_ambiguous():
    title = "404 - A Blog - notes on learning to program, one evening at a time"

    result = verdict(site_page(title, f"<h1>Page not found</h1>{ARTICLE}"))

    assert (result.outcome, result.ambiguous) == (Outcome.SOFT_404, False)


def test_a_not_found_phrase_inside_a_longer_title_is_an_ambiguous_ok():
    result = verdict(site_page("Why page not found errors hurt | A Blog", f"<h1>Why</h1>{ARTICLE}"))

    assert (result.outcome, result.ambiguous) == (Outcome.OK, True)


def test_a_heading_that_only_partly_says_not_found_is_an_ambiguous_ok():
    result = verdict(site_page("A Blog", f"<h1>Fixing module not found in webpack</h1>{ARTICLE}"))

    assert (result.outcome, result.ambiguous) == (Outcome.OK, True)


def test_a_short_page_that_mentions_404_is_an_ambiguous_ok():
    result = verdict(
        site_page("Changelog | A Blog", "<h1>Changelog</h1><p>Fixed a 404 on downloads.</p>")
    )

    assert (result.outcome, result.ambiguous) == (Outcome.OK, True)


def test_a_not_found_heading_under_a_title_about_something_else_is_an_ambiguous_soft_404():
    title = "Getting started with vector spaces and bases | A Blog"

    result = verdict(site_page(title, "<h1>Page not found</h1><p>Try the search.</p>"))

    assert (result.outcome, result.ambiguous) == (Outcome.SOFT_404, True)


def test_an_ordinary_page_is_not_ambiguous():
    result = verdict(site_page("Vectors | A Blog", f"<h1>Vectors</h1>{ARTICLE}"))

    assert (result.outcome, result.ambiguous) == (Outcome.OK, False)


def test_classify_is_the_page_verdict_without_its_confidence():
    chain = verdict_chain(site_page("Tag: 404 | A Blog", "<h1>Tag: 404</h1>"))

    assert classify(URL, chain) == (page_verdict(URL, chain).outcome, page_verdict(URL, chain).rule)


def test_a_deep_link_sent_to_the_home_page_is_a_soft_404_that_is_not_ambiguous():
    home = "https://blog.example/"
    response = FetchResponse(
        url=home,
        status=200,
        headers={"Content-Type": "text/html"},
        body=site_page("A Blog", ARTICLE).encode(),
    )
    chain = FetchChain(url=URL, final_url=home, response=response, hops=[Hop(url=URL, status=302)])

    result = page_verdict(URL, chain)

    assert (result.outcome, result.rule, result.ambiguous) == (
        Outcome.SOFT_404,
        "soft404-redirect-to-root",
        False,
    )
