from __future__ import annotations

from pathlib import Path

from curation.checker.metadata import PageMetadata, extract_metadata

FIXTURES = Path(__file__).parent / "fixtures" / "metadata"


def extract(name: str, final_url: str = "https://site.example/page", **kwargs) -> PageMetadata:
    body = (FIXTURES / name).read_bytes()
    return extract_metadata(
        body, content_type="text/html; charset=utf-8", final_url=final_url, **kwargs
    )


def page(head: str, body: str = "", final_url: str = "https://site.example/a/b") -> PageMetadata:
    html = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    return extract_metadata(html.encode(), content_type="text/html", final_url=final_url)


def test_it_reads_a_wordpress_yoast_post():
    meta = extract(
        "wordpress_post.html",
        "https://patientprogrammer.example/2023/03/understanding-python-decorators/",
    )

    assert meta.title == "Understanding Python Decorators"
    assert meta.sources["title"] == "og:title"
    assert (
        meta.description
        == "A gentle walk through Python decorators, from closures to the @ syntax."
    )
    assert meta.canonical_url == (
        "https://patientprogrammer.example/2023/03/understanding-python-decorators/"
    )
    assert meta.language == "en-US"
    assert meta.site_name == "The Patient Programmer"
    assert meta.author == "Ada Quill"
    assert meta.published == "2023-03-14"
    assert meta.kind_hint == "article"
    assert meta.duration_minutes is None
    assert meta.reading_minutes == 1
    assert meta.favicon_url.endswith("cropped-logo-32x32.png")
    assert meta.oembed_url.startswith(
        "https://patientprogrammer.example/wp-json/oembed/1.0/embed?url="
    )


def test_it_reads_a_jekyll_github_pages_post():
    meta = extract(
        "jekyll_post.html", "https://samokafor.github.io/notes/2024/01/07/git-bisect-gently.html"
    )

    assert meta.title == "Git bisect, gently"
    assert meta.description.startswith("How to find the commit that broke your build")
    assert (
        meta.canonical_url == "https://samokafor.github.io/notes/2024/01/07/git-bisect-gently.html"
    )
    assert meta.language == "en"
    assert meta.author == "Sam Okafor"
    assert meta.published == "2024-01-07"
    assert meta.kind_hint == "article"
    assert meta.duration_minutes is None


def test_it_reads_a_medium_like_article():
    meta = extract("medium_like.html", "https://medium.example/query-street/x-8c1f2e3d4b5a")

    assert meta.title == "Why Your Database Index Is Not Used"
    assert (
        meta.description
        == "Five reasons the planner ignores your index, and how to tell which one you hit."
    )
    assert meta.canonical_url == (
        "https://medium.example/query-street/why-your-database-index-is-not-used-8c1f2e3d4b5a"
    )
    assert meta.language == "en"
    assert meta.author == "Lena Marsh"
    assert meta.published == "2022-11-03"
    assert meta.is_free is False
    assert meta.duration_minutes is None
    assert meta.kind_hint == "article"


def test_it_reads_a_course_page_with_course_json_ld():
    meta = extract("course_page.html", "https://learn.example.org/courses/stats-101?ref=home")

    assert meta.title == "Introduction to Statistics"
    assert meta.description == (
        "A self-paced beginner course on descriptive statistics, probability and inference."
    )
    assert meta.canonical_url == "https://learn.example.org/courses/stats-101"
    assert meta.language == "en"
    assert meta.duration_minutes == 18 * 60 + 30
    assert meta.educational_level == "Beginner"
    assert meta.is_free is True
    assert meta.kind_hint == "course"
    assert meta.image_url == "https://learn.example.org/static/courses/stats-101/hero.jpg"
    assert meta.favicon_url == "https://learn.example.org/static/favicon.ico"


def test_it_reads_a_video_page_with_a_video_object_duration():
    meta = extract("video_page.html", "https://talks.example.net/2024/pbt/")

    assert meta.title == "Property-based testing in practice"
    assert meta.description.startswith("Finding bugs with Hypothesis")
    assert meta.sources["description"] == "json-ld"
    assert (
        meta.canonical_url == "https://talks.example.net/2024/property-based-testing-in-practice/"
    )
    assert meta.sources["canonical_url"] == "og:url"
    assert meta.language == "en-GB"
    assert meta.duration_minutes == 13  # PT12M34S rounds up
    assert meta.kind_hint == "video"
    assert meta.author == "Priya Raman, Tom Berg"
    assert meta.published == "2024-06-02"
    assert meta.site_name == "PyCon Talks Archive"


def test_it_skips_a_data_favicon_and_takes_the_next_icon():
    meta = extract("video_page.html", "https://talks.example.net/2024/pbt/")

    assert meta.favicon_url == "https://talks.example.net/static/icon-32.png"


def test_it_reads_a_youtube_like_watch_page_and_its_oembed_link():
    meta = extract("youtube_watch.html", "https://www.youtube.com/watch?v=Xb7rT2kQ9aE&t=3")

    assert meta.rejected_reason == ""
    assert meta.title == "How B-trees Work (Databases Explained)"
    assert meta.canonical_url == "https://www.youtube.com/watch?v=Xb7rT2kQ9aE"
    assert meta.language == "en"
    assert meta.duration_minutes == 8  # itemprop duration PT7M41S
    assert meta.sources["duration_minutes"] == "microdata"
    assert meta.kind_hint == "video"
    assert meta.oembed_url == (
        "https://www.youtube.com/oembed?format=json"
        "&url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DXb7rT2kQ9aE"
    )


def test_it_survives_broken_html():
    meta = extract("broken.html", "https://maths.example/cours/")

    assert meta.title == "Algèbre linéaire"
    assert meta.language == "fr"
    assert meta.canonical_url == "https://maths.example/cours/algebre-lineaire"
    assert meta.description == "Matrices, déterminants & <b>valeurs propres</b>"


def test_it_decodes_an_undeclared_windows_1252_page():
    body = (FIXTURES / "windows1252_no_charset.html").read_bytes()

    meta = extract_metadata(body, content_type="text/html", final_url="https://cuisine.example/")

    assert meta.title == "Café – naïve"
    assert meta.description == "Crème brûlée “à la française” … recette"


def test_it_decodes_a_page_declaring_an_unknown_label_then_shift_jis():
    meta = extract_metadata(
        (FIXTURES / "shift_jis_unknown_label.html").read_bytes(),
        content_type="text/html",
        final_url="https://stats.example.jp/",
    )

    assert meta.title == "統計学入門"
    assert meta.language == "ja"


def test_it_decodes_an_xhtml_page_by_its_xml_declaration():
    meta = extract_metadata(
        (FIXTURES / "xml_declaration_latin9.html").read_bytes(),
        content_type="application/xhtml+xml",
        final_url="https://alt.example/",
    )

    assert meta.title == "Preis: 20 € für ein Jahr"
    assert meta.language == "de"


def test_it_prefers_og_title_then_twitter_then_json_ld_then_the_title_tag():
    ld = '<script type="application/ld+json">{"@type":"Article","headline":"LD"}</script>'

    assert (
        page("<title>Tag</title>" + ld + '<meta name="twitter:title" content="TW">').title == "TW"
    )
    assert page("<title>Tag</title>" + ld).title == "LD"
    assert page("<title>Tag</title>").sources == {"title": "title-tag"}


def test_it_falls_back_from_og_description_to_the_meta_description():
    meta = page('<meta name="description" content="  plain   words ">')

    assert (meta.description, meta.sources["description"]) == ("plain words", "meta-description")


def test_it_resolves_a_relative_og_image_against_the_final_url():
    meta = page('<meta property="og:image" content="../img/cover.png">')

    assert meta.image_url == "https://site.example/img/cover.png"


def test_it_resolves_relative_urls_against_base_href():
    meta = page(
        '<base href="https://cdn.example/assets/"><meta property="og:image" content="c.png">'
    )

    assert meta.image_url == "https://cdn.example/assets/c.png"


def test_it_reads_og_locale_when_the_html_has_no_lang():
    assert page('<meta property="og:locale" content="pt_BR">').language == "pt-BR"


def test_it_reads_google_scholar_tags_as_a_paper():
    meta = page(
        '<meta property="og:type" content="article">'
        '<meta name="citation_title" content="Attention Is All You Need">'
        '<meta name="citation_author" content="Vaswani, Ashish">'
        '<meta name="citation_author" content="Shazeer, Noam">'
        '<meta name="citation_date" content="2017/06/12">'
    )

    assert meta.title == "Attention Is All You Need"
    assert meta.author == "Vaswani, Ashish; Shazeer, Noam"
    assert meta.published == "2017-06-12"
    assert meta.kind_hint == "paper"


def test_it_marks_a_pdf_as_a_paper_without_inventing_a_title():
    meta = extract_metadata(
        b"%PDF-1.7\n1 0 obj<</Title (Hidden)>>",
        content_type="application/pdf",
        final_url="https://x.example/a.pdf",
    )

    assert (meta.kind_hint, meta.title, meta.content_type) == ("paper", "", "application/pdf")


def test_it_sniffs_a_pdf_sent_as_octet_stream():
    meta = extract_metadata(
        b"%PDF-1.4 ...", content_type="application/octet-stream", final_url="https://x.example/dl"
    )

    assert meta.kind_hint == "paper"


def test_it_keeps_only_the_content_type_for_an_image():
    meta = extract_metadata(
        b"\x89PNG\r\n\x1a\n<title>no</title>",
        content_type="image/png",
        final_url="https://x.example/i",
    )

    assert meta.to_dict() == PageMetadata(content_type="image/png").to_dict()


def test_it_sniffs_html_when_the_content_type_is_missing():
    meta = extract_metadata(
        b"  <!DOCTYPE html><title>Hi</title>", content_type=None, final_url="https://x.example/"
    )

    assert meta.title == "Hi"


def test_it_does_not_treat_text_plain_as_html():
    meta = extract_metadata(
        b"<title>Hi</title>", content_type="text/plain", final_url="https://x.example/"
    )

    assert meta.title == ""


def test_it_gives_no_reading_time_when_the_fetcher_cut_the_body():
    meta = extract("wordpress_post.html", body_truncated=True)

    assert meta.kind_hint == "article"
    assert meta.reading_minutes is None


def test_it_estimates_reading_time_from_the_article_text():
    words = " ".join(["word"] * 1150)

    meta = page(
        '<meta property="og:type" content="article">',
        f"<nav>{words}</nav><article>{words}</article>",
    )

    assert meta.reading_minutes == 5


def test_it_fills_missing_fields_from_oembed_without_overwriting():
    meta = PageMetadata(title="Page", sources={"title": "og:title"})
    other = PageMetadata(
        title="Other", author="Ann", sources={"title": "oembed", "author": "oembed"}
    )

    meta.fill_missing(other)

    assert (meta.title, meta.author) == ("Page", "Ann")
    assert meta.sources == {"title": "og:title", "author": "oembed"}
