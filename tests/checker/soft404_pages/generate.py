"""Write the soft-404 corpus: sites/<site>/*.html and manifest.json (run by hand, never by tests).

    .venv/bin/python -m tests.checker.soft404_pages.generate

Deterministic (seeded): running it again rewrites the same files. Each site is a kind of
generator or framework (layouts.py) in one language (languages.py) with a behaviour for unknown
addresses: `soft` serves its not-found page with 200, `honest` answers 404, `home` redirects to /.
A positive is a soft site's not-found page requested at an address that does not exist (or, on a
`home` site, the home page reached through that redirect); a negative is an ordinary page at its
own address. The hand-written pages of extra.py join as one site each.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from random import Random

from .extra import PAGES as EXTRA_PAGES
from .languages import LANGUAGES, SITE_WORDS
from .layouts import LAYOUTS, Site, plain
from .pages import NEGATIVES, POSITIVES

HERE = Path(__file__).resolve().parent
SEED = 20261204
SITES = 180
CJK = ("ja", "zh-Hans", "zh-Hant", "ko")
# Where each kind of site puts its message, roughly as the real ones do.
POSITIVE_MIX = {
    "jekyll": ("code_404", "body_short", "title_and_h1", "whimsy_h1"),
    "hugo": ("code_404", "title_and_h1", "body_over_limit", "cjk_title_only"),
    "hexo": ("code_404", "title_and_h1", "cjk_title_only", "body_over_limit"),
    "mkdocs": ("h1_only", "title_and_h1", "code_404"),
    "docusaurus": ("title_and_h1", "h1_only"),
    "vuepress": ("whimsy_h1", "title_and_h1"),
    "vitepress": ("code_404", "title_and_h1"),
    "nextjs": ("title_only_spa", "code_404", "title_and_h1"),
    "gatsby": ("title_only_spa", "title_and_h1"),
    "nuxt": ("title_only_spa", "code_404"),
    "astro": ("title_and_h1", "code_404", "h1_only"),
    "sphinx": ("h1_only", "title_and_h1"),
    "wordpress": ("title_and_h1", "h1_only", "body_over_limit"),
    "ghost": ("code_404", "title_and_h1"),
    "plain": ("body_short", "title_and_h1", "code_404"),
}
HARD_NEGATIVES = [name for name in NEGATIVES if name not in ("article", "home", "short_real")]
DEEP_PATHS = (
    "/blog/2019/05/retired-post/",
    "/docs/v1/old-guide.html",
    "/posts/moved-somewhere-else/",
    "/course/unit-7/lesson-3",
    "/guide/installation-legacy/",
    "/2018/03/12/a-post-that-was-deleted.html",
)


def language_order(rng: Random) -> list[str]:
    weighted = ["en"] * 30 + ["zh-Hans"] * 14 + ["ja"] * 8 + ["zh-Hant"] * 6 + ["ko"] * 6
    weighted += [code for code in LANGUAGES if code not in CJK and code != "en"] * 5
    rng.shuffle(weighted)
    return weighted


def make_site(index: int, lang: str, rng: Random) -> Site:
    kinds = list(LAYOUTS)
    first, second = SITE_WORDS[lang]
    joiner = "" if lang in CJK else " "
    name = rng.choice(first) + joiner + rng.choice(second)
    roll = rng.random()
    behaviour = "soft" if roll < 0.72 else "honest" if roll < 0.9 else "home"
    nav = tuple(LANGUAGES[lang]["nav"])
    return Site(f"s{index:03d}", name, lang, kinds[index % len(kinds)], behaviour, nav)


def redirect_home_item(site: Site, path: str) -> dict:
    """A dead deep link of a `home` site: redirected to /, whose page is the home page."""
    return {
        "id": f"{site.id}/redirect-home",
        "site": site.id,
        "kind": site.kind,
        "language": site.lang,
        "behaviour": "home",
        "label": "soft404",
        "path": path,
        "file": f"sites/{site.id}/index.html",
        "generator": "redirect_home",
        "hard": "",
    }


def render(site: Site, builder, rng: Random) -> tuple[str, str]:
    title, main, hard = builder(site, rng)
    layout = LAYOUTS[site.kind]
    return layout(site, title, main), hard


def build() -> dict:
    rng = Random(SEED)
    languages = language_order(rng)
    sites, items = [], []
    probe_only_left = 3
    for index in range(SITES):
        site = make_site(index, languages[index % len(languages)], rng)
        folder = HERE / "sites" / site.id
        folder.mkdir(parents=True)
        variants = list(POSITIVE_MIX[site.kind])
        if site.lang not in CJK and "cjk_title_only" in variants:
            variants.remove("cjk_title_only")
        # In turn per kind, so that every variant of every kind is in the corpus.
        variant = variants[(index // len(LAYOUTS)) % len(variants)]
        if site.lang in CJK and rng.random() < 0.4:
            variant = "cjk_title_only"
        if site.behaviour == "soft" and site.kind in ("nextjs", "nuxt") and probe_only_left:
            variant, probe_only_left = "probe_only", probe_only_left - 1
        pages: dict[str, str] = {}

        def write(name: str, builder, path: str | None, label: str, generator: str) -> None:
            text, hard = render(site, builder, rng)
            (folder / name).write_text(text, encoding="utf-8")
            if path is not None:
                pages[path] = name
            if label:
                items.append(
                    {
                        "id": f"{site.id}/{name}",
                        "site": site.id,
                        "kind": site.kind,
                        "language": site.lang,
                        "behaviour": site.behaviour,
                        "label": label,
                        "path": request_path,
                        "file": f"sites/{site.id}/{name}",
                        "generator": generator,
                        "hard": hard,
                    }
                )

        request_path = rng.choice(DEEP_PATHS)
        nf_label = "soft404" if site.behaviour == "soft" else ""
        write("404.html", POSITIVES[variant], None, nf_label, variant)
        request_path = "/"
        write("index.html", NEGATIVES["home"], "/", "", "home")
        if site.behaviour == "home":
            items.append(redirect_home_item(site, rng.choice(DEEP_PATHS)))
        request_path = "/notes/first/"
        write("article.html", NEGATIVES["short_real" if index % 7 == 0 else "article"],
              request_path, "real", "short_real" if index % 7 == 0 else "article")  # fmt: skip
        hard_name = HARD_NEGATIVES[index % len(HARD_NEGATIVES)]
        request_path = f"/{hard_name.replace('_', '-')}/"
        write("hard.html", NEGATIVES[hard_name], request_path, "real", hard_name)
        sites.append(
            {"id": site.id, "name": site.name, "kind": site.kind, "language": site.lang,
             "behaviour": site.behaviour, "not_found": "404.html", "pages": pages}
        )  # fmt: skip
    return {"seed": SEED, "sites": sites, "items": items}


def build_extra(manifest: dict) -> None:
    """One site per hand-written page: a positive on a soft site, a negative on each kind."""
    behaviours = ("soft", "honest", "home")
    for index, (label, kind, lang, hard, title, body) in enumerate(EXTRA_PAGES):
        site = Site(f"x{index:03d}", title, lang, kind, "soft", ())
        behaviour = "soft" if label == "soft404" else behaviours[index % 3]
        folder = HERE / "sites" / site.id
        folder.mkdir(parents=True)
        (folder / "page.html").write_text(plain(site, title, body), encoding="utf-8")
        not_found = "page.html" if label == "soft404" else "404.html"
        if label == "real":
            generic = Site(site.id, "Site", lang, kind, behaviour, ("Home",))
            text = plain(generic, "Not found", "<h1>Not found</h1><p>Nothing lives here.</p>")
            (folder / "404.html").write_text(text, encoding="utf-8")
        path = "/old/removed-page/" if label == "soft404" else "/page/"
        pages = {} if label == "soft404" else {path: "page.html"}
        manifest["sites"].append(
            {"id": site.id, "name": "", "kind": kind, "language": lang, "behaviour": behaviour,
             "not_found": not_found, "pages": pages}
        )  # fmt: skip
        manifest["items"].append(
            {"id": f"{site.id}/page.html", "site": site.id, "kind": kind, "language": lang,
             "behaviour": behaviour, "label": label, "path": path,
             "file": f"sites/{site.id}/page.html", "generator": "hand-written", "hard": hard}
        )  # fmt: skip


def main() -> None:
    shutil.rmtree(HERE / "sites", ignore_errors=True)
    manifest = build()
    build_extra(manifest)
    (HERE / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    labels = [item["label"] for item in manifest["items"]]
    print(f"{len(labels)} items: {labels.count('soft404')} soft404, {labels.count('real')} real")


if __name__ == "__main__":
    main()
