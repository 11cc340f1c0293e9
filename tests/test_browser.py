"""The built site in a real browser: Debian's headless Chromium, driven by Playwright.

The site is served from 127.0.0.1 by a local HTTP server; every request to any other host is
blocked and recorded, so a page that still needs the network fails here. The browser is
`/usr/bin/chromium` from Debian (`make test` installs it); Playwright never downloads one.
Screenshots go to `test-output/screenshots/`.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from PIL import Image

from bookpages import chapter_pages, notebook_pages, soup, title, toc_pages

pytestmark = [pytest.mark.book, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
# As root, in a closed network: no sandbox, no GPU, and none of Chromium's own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 900}
SEARCHES = ("Grad-CAM", "overfitting")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def site(html):
    """The HTML build served on 127.0.0.1 (a free port); yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).is_file(), (f"{CHROMIUM} not found: `make test` installs Debian's chromium "
                                       "(tools/ensure_debian_packages.sh chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # A fresh temporary profile (--user-data-dir) for every launch.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(root) -> Path:
    folder = root / "test-output" / "screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Watched:
    """A browser context whose pages report console errors, failed requests and off-site requests."""

    def __init__(self, browser, allowed_prefixes: tuple[str, ...], **context_options):
        self.context = browser.new_context(viewport=VIEWPORT, **context_options)
        self.problems: list[str] = []
        self.off_site: list[str] = []
        self.allowed = allowed_prefixes + ("data:", "blob:", "about:")
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.off_site.append(url)
            route.abort("blockedbyclient")

    def page(self):
        page = self.context.new_page()
        page.on("console", lambda message: message.type == "error"
                and self.problems.append(f"console error on {page.url}: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"script error on {page.url}: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(
            f"request failed on {page.url}: {request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400 and self.problems.append(
            f"HTTP {response.status} on {page.url}: {response.url}"))
        return page

    def close(self):
        self.context.close()


@pytest.fixture()
def watched(browser, site):
    context = Watched(browser, (site,))
    yield context
    context.close()


def wait_until_rendered(page, html_dir: Path, docname: str) -> None:
    """Wait for MathJax to typeset every formula of the page (if it has any)."""
    formulas = len(soup(html_dir, f"{docname}.html").select("article .math"))
    if formulas:
        page.wait_for_function(f"document.querySelectorAll('article mjx-container').length >= {formulas}",
                               timeout=20_000)


def glossary_definition(html_dir: Path, term_id: str) -> str:
    """The first words of a glossary entry's definition, as the glossary page shows it."""
    entry = soup(html_dir, "glossary.html").find("dt", id=term_id)
    assert entry is not None, term_id
    text = " ".join(entry.find_next_sibling("dd").get_text(" ", strip=True).split())
    return " ".join(text.split()[:6])


def hover_first_term(page, html_dir: Path, docname: str) -> tuple[str, str]:
    """Hover over the page's first glossary link; return (term id, text of the tooltip shown)."""
    link = page.locator('article a[href*="glossary.html#term-"]').first
    term_id = link.get_attribute("href").split("#", 1)[1]
    link.scroll_into_view_if_needed()
    link.hover()
    tip = page.locator("[data-tippy-root]").first
    tip.wait_for(state="visible", timeout=5_000)
    return term_id, " ".join(tip.inner_text().split())


def test_every_page_of_the_book_loads_cleanly(watched, site, html, shots):
    page = watched.page()
    for book_page in toc_pages():
        response = page.goto(site + book_page.html, wait_until="load")
        assert response.status == 200, book_page.docname
        wait_until_rendered(page, html, book_page.docname)
        heading = " ".join(page.locator("article h1").first.inner_text().replace("#", "").split())
        assert title(html, book_page) in heading, (book_page.docname, heading)
        if book_page.docname == toc_pages()[0].docname:
            page.screenshot(path=shots / "index.png")
        elif book_page.docname == "glossary":
            page.screenshot(path=shots / "glossary.png")
        elif notebook_pages() and book_page.docname == notebook_pages()[0].docname:
            page.screenshot(path=shots / "lesson-1.png")
    assert not watched.problems, "\n".join(watched.problems)
    assert not watched.off_site, f"requests to other hosts: {watched.off_site}"
    print(f"\n{len(toc_pages())} pages loaded without errors; screenshots in {shots}")


@pytest.mark.parametrize("query", SEARCHES)
def test_search_finds(query, watched, site):
    page = watched.page()
    page.goto(f"{site}search.html?q={quote(query)}", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    results = page.locator("#search-results ul.search li a").evaluate_all("links => links.map(a => a.href)")
    print(f"\nsearch {query!r}: {len(results)} results, e.g. {results[:3]}")
    assert any("glossary.html" in url for url in results), results
    if query == "overfitting":  # a term the chapters use, not only the glossary
        chapters = {page.html for page in notebook_pages()}
        assert any(url.split("#")[0].removeprefix(site) in chapters for url in results), results
    assert not watched.problems, "\n".join(watched.problems)
    assert not watched.off_site, watched.off_site


# The chapters: the results page is a notebook too, but it links no glossary term.
@pytest.mark.parametrize("page_name", [page.docname for page in chapter_pages()])
def test_hovering_a_glossary_term_shows_its_definition(page_name, watched, site, html, shots):
    page = watched.page()
    page.goto(f"{site}{page_name}.html", wait_until="load")
    term_id, shown = hover_first_term(page, html, page_name)
    expected = glossary_definition(html, term_id)
    assert expected in shown, f"tooltip for {term_id}: {shown!r}, expected it to contain {expected!r}"
    if page_name == notebook_pages()[0].docname:
        page.screenshot(path=shots / "lesson-1-tooltip.png")
    assert not watched.problems, "\n".join(watched.problems)


def test_glossary_back_links_lead_to_the_chapters_that_use_the_term(watched, site, html):
    glossary = soup(html, "glossary.html")
    chapters = {page.html: page for page in notebook_pages()}
    pairs = []
    for paragraph in glossary.select("p.glossary-used-in"):
        # An entry with aliases has several <dt> (names) before its <dd>; a chapter may use any.
        names, sibling = [], paragraph.find_parent("dd").find_previous_sibling()
        while sibling is not None and sibling.name == "dt":
            names.append(sibling["id"])
            sibling = sibling.find_previous_sibling()
        pairs += [(names, link["href"]) for link in paragraph.select("a")]
    assert pairs, "no 'Used in' back-links in the glossary"
    term_links = {}  # chapter → the glossary anchors it links to (each page parsed once)
    for names, href in pairs:
        assert href in chapters, f"{names} links back to {href}, which is not a chapter"
        if href not in term_links:
            term_links[href] = {link["href"].split("#")[-1]
                                for link in soup(html, href).select('article a[href*="glossary.html#"]')}
        uses = set(names) & term_links[href]
        assert uses, f"{href} does not link to any of {names}, yet the glossary says it uses the term"
    # And the first back-link, clicked, opens its chapter.
    page = watched.page()
    page.goto(site + "glossary.html", wait_until="load")
    names, href = pairs[0]
    page.locator(f'dt[id="{names[0]}"] + dd p.glossary-used-in a').first.click()
    page.wait_for_url(re.compile(re.escape(href) + "$"))
    heading = " ".join(page.locator("article h1").first.inner_text().replace("#", "").split())
    assert title(html, chapters[href]) in heading
    print(f"\n{len(pairs)} back-links checked")
    assert not watched.problems, "\n".join(watched.problems)


def expected_launch_urls(root: Path, docname: str) -> dict[str, str]:
    config = yaml.safe_load((root / "book" / "_config.yml").read_text(encoding="utf-8"))
    repository = config["repository"]
    org, repo = repository["url"].rstrip("/").split("github.com/")[1].split("/")[:2]
    binder = config["launch_buttons"]["binderhub_url"].rstrip("/")
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    site_branch = config["sphinx"]["config"]["dlbook_site_branch"]
    return {
        "Binder": f"{binder}/v2/gh/{org}/{repo}/{repository['branch']}"
                  f"?urlpath=lab/tree/{repository['path_to_book']}/{docname}.md",
        "Colab": f"{colab}/github/{org}/{repo}/blob/{site_branch}/_sources/{docname}.ipynb",
    }


@pytest.mark.parametrize("page_name", [page.docname for page in notebook_pages()])
def test_launch_and_download_buttons(page_name, watched, site, html, root):
    page = watched.page()
    page.goto(f"{site}{page_name}.html", wait_until="load")
    launch = {link.inner_text().strip(): link.get_attribute("href")
              for link in page.locator(".dropdown-launch-buttons a").all()}
    expected = expected_launch_urls(root, page_name)
    assert launch == expected, launch
    # Binder opens the chapter's .md from the repository: it must be there, with a kernel.
    assert (root / "book" / f"{page_name}.md").is_file()
    # Colab opens the .ipynb published with the site; the download button serves the same file.
    download = {link.inner_text().strip(): link.get_attribute("href")
                for link in page.locator(".dropdown-download-buttons a").all()}
    notebook_url = page.evaluate("href => new URL(href, document.baseURI).href", download[".ipynb"])
    assert notebook_url == f"{site}_sources/{page_name}.ipynb"
    assert expected["Colab"].endswith(notebook_url.removeprefix(site))
    response = page.request.get(notebook_url)
    assert response.ok, notebook_url
    notebook = json.loads(response.body())
    first = notebook["cells"][0]
    assert first["cell_type"] == "code" and "colab-install" in first["metadata"]["tags"]
    assert "google.colab" in "".join(first["source"]) and "dlbook @ git+" in "".join(first["source"])
    source_url = page.evaluate("href => new URL(href, document.baseURI).href", download[".md"])
    assert page.request.get(source_url).text() == (root / "book" / f"{page_name}.md").read_text(encoding="utf-8")
    assert not watched.problems, "\n".join(watched.problems)


def contrast_ratio(light: float, dark: float) -> float:
    """WCAG contrast of two grey levels (0–255), treated as relative luminance."""
    to_linear = lambda v: ((v / 255 + 0.055) / 1.055) ** 2.4 if v / 255 > 0.04045 else v / 255 / 12.92  # noqa: E731
    return (to_linear(light) + 0.05) / (to_linear(dark) + 0.05)


def test_dark_mode_keeps_figures_legible(browser, site, html, shots):
    watched = Watched(browser, (site,), color_scheme="dark")
    watched.context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    page = watched.page()
    checked = folded = 0
    for book_page in notebook_pages():
        page.goto(site + book_page.html, wait_until="load")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert sum(map(int, re.findall(r"\d+", background)[:3])) < 3 * 80, f"not a dark page: {background}"
        for index, figure in enumerate(page.locator("article figure img").all()):
            if not figure.is_visible():  # inside an exercise's solution, folded away until opened
                folded += 1
                continue
            figure.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=figure.element_handle())
            grey = Image.open(io.BytesIO(figure.screenshot())).convert("L")
            values = sorted(grey.get_flattened_data())
            # Ink (text, axes, lines) can be under 2 % of a figure's area, e.g. a bar chart with
            # thin labels: take the darkest half percent as the ink, the 98th percentile as paper.
            dark, light = values[int(len(values) * 0.005)], values[int(len(values) * 0.98)]
            ratio = contrast_ratio(light, dark)
            assert ratio >= 4.5, f"{book_page.docname} figure {index}: contrast {ratio:.1f} in dark mode"
            # The figure keeps its light background, so its dark labels stay readable on it.
            width, height = grey.size
            frame = [grey.getpixel((x, y)) for x in range(width) for y in (1, height - 2)]
            frame += [grey.getpixel((x, y)) for y in range(height) for x in (1, width - 2)]
            frame_median = sorted(frame)[len(frame) // 2]
            assert frame_median > 170, (f"{book_page.docname} figure {index}: background grey {frame_median} in "
                                        "dark mode: its black labels would be dark on dark")
            checked += 1
        if book_page == notebook_pages()[0]:
            page.locator("article figure").first.scroll_into_view_if_needed()
            page.screenshot(path=shots / "lesson-1-dark.png")
    print(f"\n{checked} figures legible in dark mode ({folded} folded in solutions, not shown)")
    assert checked > 0
    assert not watched.problems, "\n".join(watched.problems)
    assert not watched.off_site, watched.off_site
    watched.close()


def test_the_site_reads_from_disk_with_the_network_shut(browser, html, shots):
    """`file://` with every http(s) request refused: math, tooltips and search still work."""
    watched = Watched(browser, ("file://",))
    page = watched.page()
    chapter = notebook_pages()[0]
    page.goto((html / chapter.html).as_uri(), wait_until="load")
    wait_until_rendered(page, html, chapter.docname)
    assert page.locator("article mjx-container").count() > 0, "no math rendered from file://"
    page.locator("article mjx-container[display='true']").first.scroll_into_view_if_needed()
    page.screenshot(path=shots / "lesson-1-math-from-disk.png")
    term_id, shown = hover_first_term(page, html, chapter.docname)
    assert glossary_definition(html, term_id) in shown
    page.goto((html / "search.html").as_uri() + "?q=overfitting", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    assert page.locator("#search-results ul.search li").count() > 0
    page.screenshot(path=shots / "search-from-disk.png")
    assert not watched.off_site, f"requests to the network from file://: {watched.off_site}"
    assert not watched.problems, "\n".join(watched.problems)
    watched.close()
