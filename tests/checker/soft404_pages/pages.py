"""The corpus's page kinds: not-found pages (positives) and ordinary pages (negatives).

Each builder returns (title, main content, why it is hard or "") for a site and its language.
"""

# ruff: noqa: E501 (page markup and wording, kept one element or sentence a line)

from __future__ import annotations

import html
from random import Random

from .languages import LANGUAGES
from .layouts import Site

SEPARATORS = (" | ", " - ", " – ", " · ", " — ", " :: ")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _words(site: Site) -> dict:
    return LANGUAGES[site.lang]


def _post_list(site: Site, rng: Random, count: int, extra: tuple[str, ...] = ()) -> str:
    words = _words(site)
    titles = [title for title, _ in words["articles"]] + list(extra)
    rng.shuffle(titles)
    items = "".join(
        f'<li><span class="post-meta">2026-0{1 + i % 9}-1{i % 9}</span>'
        f'<h3><a class="post-link" href="/posts/p{i}/">{_e(t)}</a></h3></li>'
        for i, t in enumerate((titles * 3)[:count])
    )
    return f'<ul class="post-list">{items}</ul>'


def _paragraphs(site: Site, rng: Random, count: int) -> str:
    texts = [text for _, text in _words(site)["articles"]]
    return "".join(f"<p>{_e(rng.choice(texts))} ({i + 1})</p>" for i in range(count))


# Positives -----------------------------------------------------------------------------------


def title_and_h1(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    title = rng.choice(w["nf_titles"]) + rng.choice(SEPARATORS) + site.name
    main = (
        f'<h1 class="page-title">{_e(rng.choice(w["nf_h1"]))}</h1>'
        f'<p>{_e(rng.choice(w["nf_text"]))}</p><p><a href="/">{_e(w["home"])}</a></p>'
    )
    return title, main, ""


def code_404(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    form = rng.randrange(6)
    title, hard = {
        0: (f"404 | {site.name}", ""),
        1: (f"{site.name} | 404", "404 after the site name"),
        2: (f"404{site.name.replace(' ', '')}", "404 glued to the site name, no separator"),
        3: (f"{site.name} 404", "404 after the site name, no separator"),
        4: (
            f"404 - {site.name} - notes on learning to program, one evening at a time",
            "long site name",
        ),
        5: (f"404 {site.name}", "404 before the site name, no separator"),
    }[form]
    code = rng.choice(
        ['<div class="not-found">404</div>', '<p class="code">404</p>', "<h2>404</h2>"]
    )
    main = f'{code}<p>{_e(rng.choice(w["nf_text"]))}</p><a href="/">{_e(w["home"])}</a>'
    return title, main, hard


def title_only_spa(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    title = rng.choice(w["nf_titles"])
    if rng.random() < 0.5:
        title += rng.choice(SEPARATORS) + site.name
    main = rng.choice(
        [
            '<div class="loading" aria-busy="true"></div>',
            "",
            '<div id="root"><noscript>Enable JavaScript.</noscript></div>',
        ]
    )
    return title, main, "script-heavy shell: the message is only in the title"


def h1_only(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    links = _post_list(site, rng, 6)
    main = f'<h1>{_e(rng.choice(w["nf_h1"]))}</h1><p><a href="/">{_e(w["home"])}</a></p>' + links
    return site.name, main, "only the heading says it; a list of posts below"


def whimsy_h1(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    if site.lang == "en" and rng.random() < 0.6:
        h1 = "That's a Four-Oh-Four."
        main = f'<h1>{h1}</h1><a class="route-link" href="/">{_e(w["home"])}</a>'
        return site.name, main, "the heading spells 404 out"
    main = (
        f'<div class="theme-default-content"><h1>404</h1><blockquote>{_e(rng.choice(w["whimsy"]))}'
        f'</blockquote><a class="route-link" href="/">{_e(w["home"])}</a></div>'
    )
    return site.name, main, ""


def body_short(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    main = f'<div class="error"><p>{_e(rng.choice(w["nf_text"]))}</p><a href="/">{_e(w["home"])}</a></div>'
    return site.name, main, "neither title nor heading says it"


def body_over_limit(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    suggestions = _post_list(site, rng, rng.randrange(9, 15))
    main = (
        f"<h1>{_e(rng.choice(w['whimsy']))}</h1><p>{_e(w['nf_text'][0])}</p>"
        f"<h2>{_e(w['recent'])}</h2>{suggestions}"
    )
    return site.name, main, "message in the body of a page a little over the short-body limit"


def cjk_title_only(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    title = rng.choice(w["nf_titles"])
    if rng.random() < 0.6:
        title += rng.choice(SEPARATORS) + site.name
    main = (
        f'<div class="error-page"><img src="/img/lost.svg" alt=""><p><a href="/">{_e(w["home"])}</a></p></div>'
        + _post_list(site, rng, 4)
    )
    return title, main, "only a title phrase in a CJK language"


def probe_only(site: Site, rng: Random) -> tuple[str, str, str]:
    return (
        site.name,
        '<div id="root"></div>',
        "an SPA shell with no message at all: only a probe can tell",
    )


# Negatives -----------------------------------------------------------------------------------


def article(site: Site, rng: Random) -> tuple[str, str, str]:
    title, _ = rng.choice(_words(site)["articles"])
    main = f"<article><h1>{_e(title)}</h1>{_paragraphs(site, rng, rng.randrange(4, 12))}</article>"
    return title + rng.choice(SEPARATORS) + site.name, main, ""


def home(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    main = f"<h1>{_e(site.name)}</h1><h2>{_e(w['recent'])}</h2>{_post_list(site, rng, 8)}"
    return site.name, main, ""


def short_real(site: Site, rng: Random) -> tuple[str, str, str]:
    title, text = rng.choice(_words(site)["articles"])
    return (
        f"{title}{rng.choice(SEPARATORS)}{site.name}",
        f"<h1>{_e(title)}</h1><p>{_e(text)}</p>",
        "short page",
    )


def tag_404(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    form = rng.randrange(5)
    title = {
        0: f"{w['tag']}: 404 | {site.name}",
        1: w["tagged"].format("404") + f" – {site.name}",
        2: f"404 - {w['tag']} - {site.name}",
        3: f"#404 | {site.name}",
        4: f"{w['tag']}: 404",
    }[form]
    heading = {0: f"{w['tag']}: 404", 1: w["tagged"].format("404"), 2: "404", 3: "#404", 4: "404"}[
        form
    ]
    main = f'<h1 class="page-title">{_e(heading)}</h1>{_post_list(site, rng, rng.randrange(2, 5))}'
    return title, main, "a tag page for the tag 404"


TUTORIALS = {
    "en": "How to add a custom 404 page to a static site",
    "de": "Eine eigene 404-Seite für Hugo anlegen",
    "fr": "Créer une page 404 personnalisée avec Jekyll",
    "ja": "カスタム404ページの作り方",
    "zh-Hans": "如何为 Hexo 博客添加 404 页面",
    "es": "Cómo crear una página 404 personalizada",
}


def tutorial_error_page(site: Site, rng: Random) -> tuple[str, str, str]:
    title = TUTORIALS.get(site.lang, TUTORIALS["en"])
    snippet = _e(
        "<!doctype html><title>Page not found</title><h1>404</h1><p>Sorry, this page does not exist.</p>"
    )
    main = (
        f"<article><h1>{_e(title)}</h1><p>Most hosts serve a file called 404.html when an address is unknown. "
        f"Put yours at the root of the site, for example:</p><pre><code>{snippet}</code></pre>"
        f"<p>Then check that the server answers with the status 404, not 200: a page that says "
        f"“not found” with a 200 confuses crawlers.</p></article>"
    )
    return title + rng.choice(SEPARATORS) + site.name, main, "a tutorial about error pages"


def status_table(site: Site, rng: Random) -> tuple[str, str, str]:
    rows = [
        ("200", "OK", "The request worked."),
        ("301", "Moved Permanently", "Use the new address from now on."),
        ("403", "Forbidden", "You may not see this."),
        ("404", "Not Found", "The server cannot find the requested page."),
        ("410", "Gone", "The page was removed on purpose."),
        ("500", "Internal Server Error", "The server failed."),
    ]
    body = "".join(f"<tr><td>{c}</td><td>{n}</td><td>{d}</td></tr>" for c, n, d in rows)
    main = f"<h1>HTTP status codes: a cheat sheet</h1><table><tr><th>Code</th><th>Name</th><th>Meaning</th></tr>{body}</table>"
    return f"HTTP status codes: a cheat sheet | {site.name}", main, "an HTTP status table"


QUOTES = (
    ("Fixing “command not found” after installing nvm", "zsh: command not found: nvm",
     "The installer had written its lines to .bashrc, but the shell reads .zshrc. Moving them fixed it."),
    ("ModuleNotFoundError: No module named 'yaml'", "ModuleNotFoundError: No module named 'yaml'",
     "The package is called PyYAML on the index. Install it in the same virtual environment."),
    ("Why nginx said 404 Not Found for my stylesheet", "404 Not Found\nnginx/1.24.0",
     "The root directive pointed one folder too high. The log showed the path it tried."),
    ("git: 'lfs' is not a git command", "git: 'lfs' is not a git command. See 'git --help'.",
     "Git LFS is a separate install; after it, run git lfs install once."),
    ("Error: Cannot find module 'express'", "Error: Cannot find module 'express'\nRequire stack:",
     "Run npm install in the folder that holds package.json, not above it."),
)  # fmt: skip


def quoted_error(site: Site, rng: Random) -> tuple[str, str, str]:
    title, output, fix = rng.choice(QUOTES)
    main = f"<article><h1>{_e(title)}</h1><p>Today the terminal said:</p><pre><code>{_e(output)}</code></pre><p>{_e(fix)}</p></article>"
    return title + rng.choice(SEPARATORS) + site.name, main, "a short post quoting an error"


def listed_not_found_title(site: Site, rng: Random) -> tuple[str, str, str]:
    w = _words(site)
    extra = rng.choice(
        [
            *w["nf_titles"][:1],
            "Page Not Found (a short story)",
            "404 Not Found: notes from a bad week",
        ]
    )
    items = _post_list(site, rng, 2, (extra,))
    if extra not in items:
        items = items.replace(
            "</ul>", f'<li><h3><a href="/posts/x/">{_e(extra)}</a></h3></li></ul>'
        )
    return (
        f"Archive{rng.choice(SEPARATORS)}{site.name}",
        f"<h1>Archive</h1>{items}",
        "a not-found phrase as a listed post title on a short page",
    )


def club_404(site: Site, rng: Random) -> tuple[str, str, str]:
    name = rng.choice(["404 Club", "The 404 Club", "Room 404", "Studio 404"])
    main = (
        f"<h1>{name}</h1><p>We meet on Thursdays at six in room 404 of the library to build small "
        f"electronics projects. Bring a laptop; solder and coffee are on us.</p>"
    )
    return f"{name}{rng.choice(SEPARATORS)}{site.name}", main, "404 as part of a name"


def novel_review(site: Site, rng: Random) -> tuple[str, str, str]:
    title = "Not Found: A Novel"
    text = "A review of a quiet novel about an archivist who loses a whole library. " * 6
    return (
        f"{title} | {site.name}",
        f"<article><h1>{title}</h1><p>{text}</p>{_paragraphs(site, rng, 3)}</article>",
        "a not-found phrase as a book title",
    )


def search_no_results(site: Site, rng: Random) -> tuple[str, str, str]:
    main = (
        '<header class="page-header"><h1 class="page-title">Nothing Found</h1></header>'
        "<p>Sorry, but nothing matched your search terms. Please try again with different words.</p>"
    )
    return (
        f"You searched for quaternions{rng.choice(SEPARATORS)}{site.name}",
        main,
        "an empty search page",
    )


def gallery_404(site: Site, rng: Random) -> tuple[str, str, str]:
    title = "Twelve 404 pages that made us smile"
    main = f"<article><h1>{title}</h1><p>Error pages are a small place for a joke.</p>{_paragraphs(site, rng, 5)}</article>"
    return f"{title}{rng.choice(SEPARATORS)}{site.name}", main, "an article about 404 pages"


def cjk_article_with_phrase(site: Site, rng: Random) -> tuple[str, str, str]:
    title, text = LANGUAGES["zh-Hans"]["articles"][1]
    main = f"<article><h1>{_e(title)}</h1><p>{_e(text)}</p>{_paragraphs(site, rng, 3)}</article>"
    return f"{title} | {site.name}", main, "a Chinese tutorial whose title holds a not-found phrase"


POSITIVES = {
    "title_and_h1": title_and_h1,
    "code_404": code_404,
    "title_only_spa": title_only_spa,
    "h1_only": h1_only,
    "whimsy_h1": whimsy_h1,
    "body_short": body_short,
    "body_over_limit": body_over_limit,
    "cjk_title_only": cjk_title_only,
    "probe_only": probe_only,
}
NEGATIVES = {
    "article": article,
    "home": home,
    "short_real": short_real,
    "tag_404": tag_404,
    "tutorial_error_page": tutorial_error_page,
    "status_table": status_table,
    "quoted_error": quoted_error,
    "listed_not_found_title": listed_not_found_title,
    "club_404": club_404,
    "novel_review": novel_review,
    "search_no_results": search_no_results,
    "gallery_404": gallery_404,
    "cjk_article_with_phrase": cjk_article_with_phrase,
}
