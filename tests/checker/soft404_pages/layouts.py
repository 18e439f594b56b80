"""Page shells in the image of what static-site generators and frameworks emit.

Each layout takes the site, the page's <title> and its main content, and wraps them the way that
kind of site does: head scripts and styles, a header with the site name linking home, navigation,
a sidebar or footer, framework bootstrapping scripts. Markup and wording are our own.
"""

# ruff: noqa: E501 (page markup and wording, kept one element or sentence a line)

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    lang: str
    kind: str
    behaviour: str  # soft | honest | home
    nav: tuple[str, ...]


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _nav(site: Site, cls: str = "nav") -> str:
    links = "".join(
        f'<li><a href="/{_e(item.lower())}/">{_e(item)}</a></li>' for item in site.nav[1:]
    )
    return f'<nav class="{cls}"><ul><li><a href="/">{_e(site.nav[0])}</a></li>{links}</ul></nav>'


def _head_common(site: Site, title: str, extra: str = "") -> str:
    h = _hash(site.id)
    return (
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title>"
        f'<link rel="stylesheet" href="/assets/main.{h}.css">'
        f'<link rel="icon" href="/favicon.ico">{extra}'
    )


def jekyll(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<link type="application/atom+xml" rel="alternate" href="/feed.xml" title="{_e(site.name)}">'
        f'</head><body><header class="site-header" role="banner"><div class="wrapper">'
        f'<a class="site-title" rel="author" href="/">{_e(site.name)}</a>{_nav(site, "site-nav")}'
        f'</div></header><main class="page-content" aria-label="Content"><div class="wrapper">{main}'
        f'</div></main><footer class="site-footer h-card"><div class="wrapper">'
        f'<h2 class="footer-heading">{_e(site.name)}</h2><ul class="contact-list"><li>'
        f'<a class="u-email" href="mailto:hello@example.org">hello@example.org</a></li></ul>'
        f"<p>Notes on programming and learning, written in the evenings.</p></div></footer></body></html>"
    )


def hugo(site: Site, title: str, main: str) -> str:
    h = _hash(site.id + "hugo")
    return (
        f'<!doctype html><html lang="{site.lang}" dir="auto"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="Hugo 0.12x"><meta property="og:site_name" content="{_e(site.name)}">'
        f'<script defer src="/assets/js/search.{h}.js"></script>'
        f"<script>localStorage.getItem('pref-theme')==='dark'&&document.body.classList.add('dark')</script>"
        f'</head><body class="list"><header class="header"><nav class="nav"><div class="logo">'
        f'<a href="/" accesskey="h" title="{_e(site.name)} (Alt + H)">{_e(site.name)}</a>'
        f'<div class="logo-switches"><button id="theme-toggle" accesskey="t" title="(Alt + T)">'
        f'<svg viewBox="0 0 24 24"><path d="M21 12.79A9 9 0 1 1 11.21 3"></path></svg></button></div></div>'
        f'{_nav(site, "menu")}</nav></header><main class="main">{main}</main>'
        f'<footer class="footer"><span>&copy; 2026 <a href="/">{_e(site.name)}</a></span> · '
        f'<span>Powered by <a href="https://gohugo.io/">Hugo</a></span></footer>'
        f'<a href="#top" class="top-link" id="top-link" accesskey="g">&uarr;</a></body></html>'
    )


def hexo(site: Site, title: str, main: str) -> str:
    config = json.dumps(
        {"hostname": "example.org", "root": "/", "version": "8.x", "lang": site.lang}
    )
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="Hexo 7.x"><script class="next-config" data-name="main" '
        f'type="application/json">{config}</script><script src="/js/config.js"></script>'
        f'</head><body itemscope itemtype="http://schema.org/WebPage"><div class="headband"></div>'
        f'<main class="main"><header class="header" itemscope itemtype="http://schema.org/WPHeader">'
        f'<div class="site-brand-container"><div class="site-meta"><a href="/" class="brand" rel="start">'
        f'<span class="logo-line"></span><p class="site-title">{_e(site.name)}</p></a>'
        f'<p class="site-subtitle" itemprop="description">Learning in public</p></div></div>'
        f'{_nav(site, "site-nav")}</header><div class="main-inner page posts-expand">{main}</div></main>'
        f'<footer class="footer"><div class="footer-inner"><div class="copyright">&copy; 2026 '
        f'<span class="author" itemprop="copyrightHolder">{_e(site.name)}</span></div>'
        f'<div class="powered-by">Powered by Hexo &amp; NexT</div></div></footer>'
        f'<script src="/lib/anime.min.js"></script><script src="/js/next-boot.js"></script></body></html>'
    )


def mkdocs(site: Site, title: str, main: str) -> str:
    return (
        f'<!doctype html><html lang="{site.lang}" class="no-js"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="mkdocs-1.6, mkdocs-material-9.x">'
        f'<script>__md_scope=new URL("/",location),__md_get=(e,_=localStorage)=>JSON.parse(_.getItem(e))</script>'
        f'</head><body dir="ltr" data-md-color-scheme="default"><input class="md-toggle" data-md-toggle="drawer" '
        f'type="checkbox" id="__drawer"><header class="md-header" data-md-component="header"><nav class="md-header__inner md-grid">'
        f'<a href="/" title="{_e(site.name)}" class="md-header__button md-logo">{_e(site.name)}</a>'
        f'<div class="md-search" data-md-component="search"><input type="text" class="md-search__input" '
        f'name="query" placeholder="Search"></div></nav></header><div class="md-container">'
        f'<main class="md-main"><div class="md-main__inner md-grid"><div class="md-sidebar md-sidebar--primary">'
        f'{_nav(site, "md-nav md-nav--primary")}</div><div class="md-content" data-md-component="content">'
        f'<article class="md-content__inner md-typeset">{main}</article></div></div></main>'
        f'<footer class="md-footer"><div class="md-copyright">Made with Material for MkDocs</div></footer></div>'
        f'<script id="__config" type="application/json">{{"base": "/", "features": [], "search": "/search.js"}}</script>'
        f'<script src="/assets/javascripts/bundle.{_hash(site.id)}.min.js"></script></body></html>'
    )


def docusaurus(site: Site, title: str, main: str) -> str:
    h = _hash(site.id + "docu")
    return (
        f'<!doctype html><html lang="{site.lang}" dir="ltr" data-theme="light"><head>'
        f'<meta name="generator" content="Docusaurus v3">{_head_common(site, title)}'
        f'<meta property="og:title" content="{_e(title)}"><link rel="preload" href="/assets/js/runtime~main.{h}.js" as="script">'
        f'<script src="/assets/js/main.{h}.js" defer></script></head><body class="navigation-with-keyboard">'
        f"<script>!function(){{var t=localStorage.getItem('theme');document.documentElement.setAttribute('data-theme',t||'light')}}()</script>"
        f'<div id="__docusaurus"><div role="region" aria-label="Skip to main content"><a class="skipToContent" href="#__docusaurus_skipToContent_fallback">Skip to main content</a></div>'
        f'<nav aria-label="Main" class="navbar navbar--fixed-top"><div class="navbar__inner"><div class="navbar__items">'
        f'<a class="navbar__brand" href="/"><b class="navbar__title text--truncate">{_e(site.name)}</b></a>'
        f'{_nav(site, "navbar__items")}</div></div></nav><div id="__docusaurus_skipToContent_fallback" class="main-wrapper mainWrapper">'
        f'<main class="container margin-vert--xl"><div class="row"><div class="col col--6 col--offset-3">{main}</div></div></main></div>'
        f'<footer class="footer footer--dark"><div class="container"><div class="footer__copyright">Copyright © 2026 {_e(site.name)}. Built with Docusaurus.</div></div></footer></div></body></html>'
    )


def vuepress(site: Site, title: str, main: str) -> str:
    h = _hash(site.id + "vp")
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="VuePress 2.x"><link rel="modulepreload" href="/assets/app-{h}.js">'
        f'<script>const u=localStorage.getItem("vuepress-color-scheme");u==="dark"&&document.documentElement.classList.add("dark")</script>'
        f'</head><body><div id="app"><div class="theme-container no-sidebar"><header class="navbar">'
        f'<span class="toggle-sidebar-button" title="toggle sidebar" role="button"></span>'
        f'<span><a class="route-link" href="/"><span class="site-name">{_e(site.name)}</span></a></span>'
        f'<div class="navbar-items-wrapper">{_nav(site, "navbar-items")}</div></header>'
        f'<main class="page">{main}</main></div></div><script type="module" src="/assets/app-{h}.js" defer></script></body></html>'
    )


def vitepress(site: Site, title: str, main: str) -> str:
    h = _hash(site.id + "vitep")
    return (
        f'<!DOCTYPE html><html lang="{site.lang}" dir="ltr"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="VitePress v1.x"><link rel="modulepreload" href="/assets/chunks/framework.{h}.js">'
        f'<script id="check-dark-mode">(()=>{{const e=localStorage.getItem("vitepress-theme-appearance")||"auto"}})()</script>'
        f'</head><body><div id="app"><div class="Layout"><header class="VPNav"><div class="VPNavBar"><div class="wrapper">'
        f'<div class="title"><a class="title" href="/"><span>{_e(site.name)}</span></a></div>'
        f'<div class="content">{_nav(site, "VPNavBarMenu menu")}</div></div></div></header>'
        f'<div class="VPContent">{main}</div><footer class="VPFooter"><p class="message">Released under the MIT License.</p></footer></div></div>'
        f'<script>window.__VP_HASH_MAP__=JSON.parse("{{}}");window.__VP_SITE_DATA__=JSON.parse("{{\\"lang\\":\\"{site.lang}\\"}}")</script>'
        f'<script type="module" src="/assets/app.{h}.js"></script></body></html>'
    )


def _spa_payload(site: Site, size: int = 40) -> str:
    chunks = "".join(
        f'<script src="/_next/static/chunks/{_hash(site.id + str(i))}-{i}.js" async=""></script>'
        for i in range(size // 8)
    )
    data = json.dumps(
        {"props": {"pageProps": {}}, "page": "/_error", "query": {}, "buildId": _hash(site.id)}
    )
    return chunks + f'<script id="__NEXT_DATA__" type="application/json">{data}</script>'


def nextjs(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<meta name="next-head-count" content="3"><link rel="preload" href="/_next/static/css/{_hash(site.id)}.css" as="style">'
        f'<noscript data-n-css=""></noscript></head><body><div id="__next">{main}</div>'
        f"{_spa_payload(site)}<script>self.__next_f=self.__next_f||[];self.__next_f.push([0])</script></body></html>"
    )


def gatsby(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="Gatsby 5.x"><style data-href="/styles.{_hash(site.id)}.css">body{{margin:0}}</style>'
        f'</head><body><div id="___gatsby"><div style="outline:none" tabindex="-1" id="gatsby-focus-wrapper">'
        f'<header><a href="/">{_e(site.name)}</a>{_nav(site)}</header><main>{main}</main>'
        f'<footer>© 2026, Built with Gatsby</footer></div><div id="gatsby-announcer" aria-live="assertive"></div></div>'
        f'<script id="gatsby-script-loader">/*<![CDATA[*/window.pagePath="/404.html";/*]]>*/</script>'
        f'<script src="/app-{_hash(site.id)}.js" async></script></body></html>'
    )


def nuxt(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<link rel="modulepreload" as="script" crossorigin href="/_nuxt/entry.{_hash(site.id)}.js">'
        f'</head><body><div id="__nuxt">{main}</div><div id="teleports"></div>'
        f'<script type="application/json" id="__NUXT_DATA__" data-ssr="true">[{{"state":1,"once":2}},{{}},["Set"]]</script>'
        f'<script>window.__NUXT__={{}};window.__NUXT__.config={{public:{{}},app:{{baseURL:"/",buildAssetsDir:"/_nuxt/"}}}}</script></body></html>'
    )


def astro(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{site.lang}" dir="ltr" data-theme="dark"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="Astro v4"><meta property="og:site_name" content="{_e(site.name)}">'
        f"<script>window.StarlightThemeProvider=(()=>{{}})()</script></head><body>"
        f'<a href="#_top" class="sr-only">Skip to content</a><div class="page sl-flex"><header class="header">'
        f'<a href="/" class="site-title sl-flex"><span>{_e(site.name)}</span></a>'
        f'<site-search data-translations="{{}}"><button data-open-modal aria-label="Search">Search</button></site-search>'
        f'</header><div class="main-frame"><main data-pagefind-body lang="{site.lang}">{main}</main></div></div>'
        f'<script type="module" src="/_astro/page.{_hash(site.id)}.js"></script></body></html>'
    )


def sphinx(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html class="writer-html5" lang="{site.lang}" data-content_root="/"><head>'
        f'{_head_common(site, title)}<script src="/_static/documentation_options.js"></script>'
        f'<script src="/_static/doctools.js"></script><script src="/_static/sphinx_highlight.js"></script>'
        f'<link rel="search" title="Search" href="/search.html"></head><body class="wy-body-for-nav">'
        f'<div class="wy-grid-for-nav"><nav data-toggle="wy-nav-shift" class="wy-nav-side"><div class="wy-side-scroll">'
        f'<div class="wy-side-nav-search"><a href="/" class="icon icon-home">{_e(site.name)}</a>'
        f'<div role="search"><form id="rtd-search-form" action="/search.html" method="get">'
        f'<input type="text" name="q" placeholder="Search docs"></form></div></div>'
        f'<div class="wy-menu wy-menu-vertical" role="navigation">{_nav(site, "toctree")}</div></div></nav>'
        f'<section data-toggle="wy-nav-shift" class="wy-nav-content-wrap"><div class="wy-nav-content"><div class="rst-content">'
        f'<div role="main" class="document" itemscope="itemscope" itemtype="http://schema.org/Article">'
        f'<div itemprop="articleBody">{main}</div></div><footer><hr><div role="contentinfo"><p>&#169; Copyright 2026, the authors.</p></div>'
        f"Built with Sphinx using a theme provided by Read the Docs.</footer></div></div></section></div></body></html>"
    )


def wordpress(site: Site, title: str, main: str, body_class: str = "") -> str:
    widgets = (
        '<aside id="secondary" class="widget-area"><section class="widget widget_search"><form role="search" '
        'method="get" class="search-form" action="/"><input type="search" class="search-field" name="s">'
        '<input type="submit" class="search-submit" value="Search"></form></section>'
        '<section class="widget widget_archive"><h2 class="widget-title">Archives</h2><ul>'
        + "".join(f'<li><a href="/2026/{m:02d}/">2026-{m:02d}</a></li>' for m in range(1, 7))
        + "</ul></section></aside>"
    )
    return (
        f'<!doctype html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<link rel="https://api.w.org/" href="/wp-json/"><meta name="generator" content="WordPress 6.x">'
        f'<script>window._wpemojiSettings={{"baseUrl":"/wp-includes/emoji","ext":".png"}};</script>'
        f"<style id='wp-block-library-inline-css'>.wp-block{{margin:0}}</style></head>"
        f'<body class="{body_class} wp-embed-responsive"><div id="page" class="site">'
        f'<a class="skip-link screen-reader-text" href="#primary">Skip to content</a>'
        f'<header id="masthead" class="site-header"><div class="site-branding"><p class="site-title">'
        f'<a href="/" rel="home">{_e(site.name)}</a></p></div>{_nav(site, "main-navigation")}</header>'
        f'<main id="primary" class="site-main">{main}</main>{widgets}'
        f'<footer id="colophon" class="site-footer"><div class="site-info">Proudly powered by WordPress</div></footer>'
        f"</div><script src='/wp-includes/js/wp-embed.min.js'></script></body></html>"
    )


def ghost(site: Site, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head>{_head_common(site, title)}'
        f'<meta name="generator" content="Ghost 5.x"><meta property="og:site_name" content="{_e(site.name)}">'
        f'<script defer src="/public/cards.min.js"></script><script defer src="/portal.min.js" data-ghost="/"></script>'
        f'</head><body class="error-template"><div class="site-wrapper"><header id="gh-head" class="gh-head outer">'
        f'<div class="gh-head-inner inner"><div class="gh-head-brand"><a class="gh-head-logo" href="/">{_e(site.name)}</a></div>'
        f'{_nav(site, "gh-head-menu")}</div></header><main id="site-main" class="site-main outer">{main}</main>'
        f'<footer class="site-footer outer"><div class="inner"><section class="copyright"><a href="/">{_e(site.name)}</a> &copy; 2026</section>'
        f'<div class="gh-powered-by">Powered by Ghost</div></div></footer></div></body></html>'
    )


def plain(site: Site, title: str, main: str) -> str:
    """A hand-written or server-generated page: little markup."""
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>body{{font-family:sans-serif;margin:4em auto;max-width:40em}}</style></head>"
        f"<body>{main}</body></html>"
    )


LAYOUTS = {
    "jekyll": jekyll,
    "hugo": hugo,
    "hexo": hexo,
    "mkdocs": mkdocs,
    "docusaurus": docusaurus,
    "vuepress": vuepress,
    "vitepress": vitepress,
    "nextjs": nextjs,
    "gatsby": gatsby,
    "nuxt": nuxt,
    "astro": astro,
    "sphinx": sphinx,
    "wordpress": wordpress,
    "ghost": ghost,
    "plain": plain,
}
