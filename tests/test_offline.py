"""The HTML site reads offline: no page or stylesheet loads anything from another host.

Lists every external `src=`/`href=` of the resources a browser fetches by itself (scripts,
stylesheets, fonts, images, frames) across all pages of the build, and every external `url()` or
`@import` in its stylesheets. Plain links (`<a href>` to papers, Binder, Colab) are fine. The
browser test (test_browser.py) checks the same at run time, with the network shut.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bookpages import soup, toc_pages
from dlbook.site import selfhost

pytestmark = pytest.mark.book

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)  # http://, https://, //host
# Resources a browser fetches when it renders a page (not links a reader may follow).
FETCHED = [("script", "src"), ("img", "src"), ("img", "srcset"), ("iframe", "src"), ("embed", "src"),
           ("source", "src"), ("source", "srcset"), ("video", "src"), ("video", "poster"), ("audio", "src"),
           ("track", "src"), ("object", "data"), ("input", "src"), ("image", "href")]
FETCHED_LINK_RELS = {"stylesheet", "preload", "prefetch", "modulepreload", "icon", "shortcut",
                     "apple-touch-icon", "manifest", "preconnect", "dns-prefetch", "mask-icon"}
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.IGNORECASE)


def external_resources(html_dir: Path) -> list[str]:
    """'file: tag attribute=url' for every externally fetched resource of the site."""
    found = []
    for path in sorted(html_dir.rglob("*.html")):
        name = path.relative_to(html_dir).as_posix()
        document = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag_name, attribute in FETCHED:
            for tag in document.find_all(tag_name, attrs={attribute: True}):
                for url in re.split(r",\s*", tag[attribute]):
                    if EXTERNAL.match(url.strip()):
                        found.append(f"{name}: <{tag_name} {attribute}={url.strip().split()[0]}>")
        for tag in document.find_all("link", href=True):
            rels = {rel.lower() for rel in tag.get("rel", [])}
            if rels & FETCHED_LINK_RELS and EXTERNAL.match(tag["href"]):
                found.append(f"{name}: <link rel={' '.join(sorted(rels))} href={tag['href']}>")
        styles = [tag.get_text() for tag in document.find_all("style")]
        styles += [tag["style"] for tag in document.find_all(style=True)]
        for style in styles:
            found += [f"{name}: css {url}" for url in CSS_URL.findall(style) if EXTERNAL.match(url)]
    for path in sorted(html_dir.rglob("*.css")):
        css = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8", errors="replace"), flags=re.DOTALL)
        found += [f"{path.relative_to(html_dir).as_posix()}: css {url}"
                  for url in CSS_URL.findall(css) if EXTERNAL.match(url)]
    return found


def test_the_check_sees_external_resources(tmp_path):
    """The check itself: a page with CDN script, font stylesheet and CSS import is caught; links are not."""
    (tmp_path / "page.html").write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/css">'
        '<style>@import "https://example.org/a.css";</style></head>'
        '<body><a href="https://doi.org/10.1/x">paper</a><script src="_static/local.js"></script>'
        '<img src="https://example.org/i.png"></body></html>')
    (tmp_path / "site.css").write_text("/* https://license.example.org */ .a{background:url(https://example.org/b.png)}")
    found = external_resources(tmp_path)
    assert len(found) == 5, found
    assert not any("doi.org" in item or "local.js" in item or "license" in item for item in found)


def test_no_page_fetches_anything_from_another_host(html):
    found = external_resources(html)
    pages = len(list(html.rglob("*.html")))
    print(f"\nexternal resources across {pages} HTML pages and their stylesheets: {len(found)}")
    assert not found, "external resources (self-host them, see dlbook/site/selfhost.py):\n" + "\n".join(found)


def test_math_tooltips_and_search_are_served_from_the_site(html):
    for asset in selfhost.VENDORED:
        assert (html / "_static" / asset.static_path).is_file(), asset
    assert (html / "_static" / selfhost.MATHJAX_PATH).is_file()
    fonts = list((html / "_static" / selfhost.MATHJAX_STATIC / "output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) > 10, "MathJax's web fonts were not copied"
    with_math = with_tips = 0
    for page in toc_pages():
        document = soup(html, page)
        sources = [tag["src"] for tag in document.find_all("script", src=True)]
        prefix = "../" * page.docname.count("/") + "_static/"
        if document.select("article .math"):
            with_math += 1
            assert prefix + selfhost.MATHJAX_PATH in sources, f"{page.docname} has math but no local MathJax"
        if document.select('article a[href*="glossary.html#term-"]'):
            with_tips += 1
            for asset in selfhost.VENDORED:
                assert prefix + asset.static_path in sources, f"{page.docname}: no local {asset.source}"
    assert with_math and with_tips, "no page with math or with glossary links: the check checked nothing"
    # Search: the index is a script the search page loads by a relative path (works from file://).
    search = soup(html, "search.html")
    assert "searchindex.js" in [tag["src"] for tag in search.find_all("script", src=True)]
    assert (html / "searchindex.js").is_file()


def test_a_changed_vendored_file_fails_the_build(tmp_path):
    vendor = tmp_path / "vendor"
    for asset in selfhost.VENDORED:
        (vendor / asset.source).parent.mkdir(parents=True, exist_ok=True)
        (vendor / asset.source).write_text("// not the pinned file")
    with pytest.raises(selfhost.SelfHostError, match=r"popper.*SHA-256"):
        selfhost.copy_assets(vendor, tmp_path / "static")
    assert not (tmp_path / "static" / selfhost.POPPER.static_path).exists()
