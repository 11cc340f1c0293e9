"""Build-time glue: the glossary, the chapters as notebooks, and the self-hosted web assets.

Enabled in `book/_config.yml` under `sphinx.extra_extensions`. At start-up the YAML files are
validated (a malformed entry stops the build, naming file and entry) and rendered into
`book/glossary.md`. While pages are read, every `{term}` reference is recorded; when the glossary
page is written, each entry gets links to the chapters that use it.

For the HTML site it also writes every chapter as an `.ipynb` with a Colab install cell
(`dlbook.site.notebooks`), offered by the page's download button and opened by its Colab button, and
copies pinned MathJax, popper and tippy into the site so that it reads offline (`dlbook.site.selfhost`).

Before pages are read, it checks that the execution cache was made with the current package, data
and profile, and re-executes every chapter when it was not (`dlbook.site.freshness`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag  # sphinx-tippy's own dependency
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError
from sphinx.util import logging

from dlbook.chapter import BOOK_BUILD_VARIABLE
from dlbook.site import freshness, glossary, notebooks, selfhost

logger = logging.getLogger(__name__)

HEADER = """\
# Glossary

Every term the course uses, defined in the book's own words and grouped by the lesson that
introduces it. A term that a later lesson uses again is listed once, with the lessons where it
returns. Under each entry, *Used in* links to the chapters that refer to it; in a chapter, hovering
over a linked term shows its definition.

<!-- This page is generated from glossary/*.yml by dlbook.site.sphinxext at build time: edit those files. -->

"""


def _render_glossary(app: Sphinx, config: Any) -> None:
    folder = (Path(app.confdir) / config.dlbook_glossary_dir).resolve()
    try:
        lessons = glossary.load(folder)
    except glossary.GlossaryError as error:
        raise ExtensionError(f"glossary: {error}") from error
    app.env_glossary = lessons  # type: ignore[attr-defined]
    page = Path(app.srcdir) / f"{config.dlbook_glossary_page}.md"
    text = HEADER + glossary.to_myst(lessons)
    app.dlbook_glossary_digest = hashlib.sha256(text.encode()).hexdigest()  # type: ignore[attr-defined]
    # Rewrite only on change, so an unchanged glossary does not make Sphinx re-read the page.
    if not page.exists() or page.read_text(encoding="utf-8") != text:
        page.write_text(text, encoding="utf-8")


def _outdated_by_inputs(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                        removed: set[str]) -> list[str]:
    """Pages to read again because something they depend on, beyond their own text, changed.

    The chapters' executed results depend on the package `dlbook`, the prepared data and the profile
    (see `dlbook.site.freshness`): when any of them changed, the execution cache is emptied and
    every page is read, and so executed, again. Term tooltips and back-links depend on the
    glossary: when it changed, every page is read again (from the cache).
    """
    import dlbook
    from dlbook.data import store

    every_page = sorted(env.found_docs)
    cache = getattr(getattr(env, "mystnb_config", None), "execution_cache_path", "")
    if cache and getattr(env, "mystnb_config").execution_mode == "cache":
        package = Path(app.config.dlbook_execution_package or Path(dlbook.__file__).parent)
        inputs = freshness.execution_inputs(package, store.data_dir() / store.MARKER_DIR)
        kinds = freshness.refresh(Path(cache), inputs)
        if kinds:
            logger.info("dlbook: %s changed since the chapters were executed; executing every chapter again",
                        " and ".join(kinds))
            return every_page
    previous = getattr(env, "dlbook_glossary_digest", None)
    current = getattr(app, "dlbook_glossary_digest", None)
    env.dlbook_glossary_digest = current  # type: ignore[attr-defined]
    if previous is not None and previous != current:
        logger.info("dlbook: the glossary changed; reading every page again for its term links")
        return every_page
    return []


def _record_terms(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    uses = getattr(env, "dlbook_term_uses", {})
    found = {glossary.normalise(node["reftarget"]) for node in doctree.findall(addnodes.pending_xref)
             if node.get("reftype") == "term"}
    uses[env.docname] = found
    env.dlbook_term_uses = uses  # type: ignore[attr-defined]


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "dlbook_term_uses", {}).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    uses = getattr(env, "dlbook_term_uses", {})
    uses.update({d: v for d, v in getattr(other, "dlbook_term_uses", {}).items() if d in docnames})
    env.dlbook_term_uses = uses  # type: ignore[attr-defined]


def _add_back_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if docname != app.config.dlbook_glossary_page:
        return
    env = app.env
    uses: dict[str, set[str]] = getattr(env, "dlbook_term_uses", {})
    by_name = glossary.index(app.env_glossary)  # type: ignore[attr-defined]
    # Reading order of the book (a walk of the table of contents), not file-name order.
    flat, stack = [], [app.config.root_doc]
    while stack:
        doc = stack.pop(0)
        flat.append(doc)
        stack[0:0] = env.toctree_includes.get(doc, [])
    order = {doc: i for i, doc in enumerate(flat)}
    for item in doctree.findall(nodes.definition_list_item):
        if not isinstance(item.parent.parent, addnodes.glossary):
            continue
        names = {glossary.normalise(t.astext()) for t in item.findall(nodes.term)}
        entry = next((by_name[n] for n in names if n in by_name), None)
        if entry is None:
            continue
        keys = {glossary.normalise(n) for n in entry.names}
        docs = sorted((d for d, found in uses.items() if found & keys and d != docname),
                      key=lambda d: order.get(d, len(order)))
        if not docs:
            continue
        para = nodes.paragraph(classes=["glossary-used-in"])
        para += nodes.emphasis(text="Used in: ")
        for i, doc in enumerate(docs):
            if i:
                para += nodes.Text(", ")
            title = env.titles[doc].astext() if doc in env.titles else doc
            ref = nodes.reference("", "", internal=True, refuri=app.builder.get_relative_uri(docname, doc))
            ref += nodes.inline(text=title)
            para += ref
        para += nodes.Text(".")
        definition = next(item.findall(nodes.definition))
        definition += para


def _use_self_hosted_assets(app: Sphinx, config: Any) -> None:
    # Before sphinx.ext.mathjax and sphinx_tippy read these (builder-inited and later).
    config.mathjax_path = selfhost.MATHJAX_PATH
    config.tippy_js = tuple(asset.static_path for asset in selfhost.VENDORED)


def _copy_self_hosted_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    vendor_dir = (Path(app.confdir) / app.config.dlbook_vendor_dir).resolve()
    try:
        selfhost.copy_assets(vendor_dir, Path(app.outdir) / "_static")
    except selfhost.SelfHostError as error:
        raise ExtensionError(str(error)) from error


def _prepare_notebooks(app: Sphinx) -> None:
    """Work out the Colab install cell once, failing early if its configuration is wrong."""
    if app.builder.format != "html":
        return
    options = app.config.html_theme_options
    requirements = (Path(app.confdir) / app.config.dlbook_requirements).resolve()
    try:
        packages = [notebooks.package_requirement(options.get("repository_url", ""),
                                                  options.get("repository_branch") or "main")]
        packages += notebooks.requirement_pins(requirements, list(app.config.dlbook_colab_packages))
    except (notebooks.NotebookError, OSError) as error:
        raise ExtensionError(f"chapter notebooks: {error}") from error
    app.dlbook_install_code = notebooks.install_source(packages)  # type: ignore[attr-defined]


def colab_url(options: dict[str, Any], site_branch: str, pagename: str) -> str | None:
    """Colab's URL for the chapter notebook as published with the HTML site on `site_branch`."""
    colab = options.get("launch_buttons", {}).get("colab_url", "").rstrip("/")
    repository = options.get("repository_url", "").rstrip("/")
    if not colab or "github.com/" not in repository:
        return None
    org, repo = repository.split("github.com/")[1].split("/")[:2]
    return f"{colab}/github/{org}/{repo}/blob/{site_branch}/_sources/{pagename}.ipynb"


def _write_notebook(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                    doctree: nodes.document | None) -> None:
    """For a chapter page: write its notebook and point the download and Colab buttons at it.

    Runs after sphinx-book-theme (priority 501), which copies the executed notebook to
    `_sources/` and links Colab to the `.md` in the repository, which Colab cannot open.
    """
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md":
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    try:
        notebooks.write_chapter_notebook(source, target, app.dlbook_install_code)  # type: ignore[attr-defined]
    except notebooks.NotebookError as error:
        raise ExtensionError(f"chapter notebooks: {error}") from error
    context["ipynb_source"] = f"{pagename}.ipynb"
    url = colab_url(app.config.html_theme_options, app.config.dlbook_site_branch, pagename)
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            if button.get("text") == "Colab" and url:
                button["url"] = url


def _complete_term_tooltips(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                             doctree: nodes.document | None) -> None:
    """Give every name of a multi-name glossary entry its definition in the hover tooltip.

    sphinx-tippy (priority 450, before this) shows a term's `<dt>` with the `<dd>` right after
    it. An entry with aliases has several `<dt>` before its one `<dd>`, so hovering a link to
    any name but the last showed only the name. Here each such `<dt>` gets the shared `<dd>`.
    """
    if doctree is None or pagename != app.config.dlbook_glossary_page:
        return
    pages = getattr(app.env, "tippy_data", {}).get("pages", {})
    tips = pages.get(pagename, {}).get("id_to_html")
    if tips is None:
        return
    body = BeautifulSoup(context["body"], "html.parser")
    for term in body.find_all("dt", id=True):
        following = term.find_next_sibling()
        if not isinstance(following, Tag) or following.name != "dt":
            continue  # sphinx-tippy already added the definition that follows
        definition = term.find_next_sibling("dd")
        if definition is None or str(term["id"]) not in tips:
            continue
        paragraphs = "".join(str(p) for p in definition.find_all("p", recursive=False)[:6])
        tips[str(term["id"])] += f"<dd>{paragraphs}</dd>"


def _drop_unused_thebe(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                       doctree: nodes.document | None) -> None:
    """Leave out sphinx-thebe's scripts when no launch button uses Thebe (ours do not).

    Jupyter Book always loads sphinx-thebe, which adds its inline configuration twice (a script
    error in every page: `THEBE_JS_URL` declared twice) and names a CDN copy of thebe.
    """
    if app.config.html_theme_options.get("launch_buttons", {}).get("thebe"):
        return
    context["script_files"] = [
        script for script in context.get("script_files", [])
        if not str(getattr(script, "filename", script) or "").endswith("sphinx-thebe.js")
        and "THEBE_JS_URL" not in str(getattr(script, "attributes", {}).get("body", ""))
    ]
    context["css_files"] = [css for css in context.get("css_files", [])
                            if not str(getattr(css, "filename", css)).endswith("sphinx-thebe.css")]


def setup(app: Sphinx) -> dict[str, Any]:
    # The kernels that execute the chapters inherit this: glued figures then appear only where the
    # page places them, not also as cell outputs (see dlbook.chapter.glue).
    os.environ[BOOK_BUILD_VARIABLE] = "1"
    app.add_config_value("dlbook_glossary_dir", "../glossary", "env")
    app.add_config_value("dlbook_glossary_page", "glossary", "env")
    app.add_config_value("dlbook_vendor_dir", "_vendor", "html")
    app.add_config_value("dlbook_requirements", "../requirements.txt", "html")
    app.add_config_value("dlbook_colab_packages", [], "html", [list, tuple])
    # The branch on which the built HTML site is published (it holds the chapter notebooks).
    app.add_config_value("dlbook_site_branch", "gh-pages", "html")
    # The package whose sources key the execution cache (default: dlbook itself; tests use their own).
    app.add_config_value("dlbook_execution_package", "", "env")
    # Early, so the page exists before Sphinx and the table of contents look for it.
    app.connect("config-inited", _render_glossary, priority=100)
    app.connect("config-inited", _use_self_hosted_assets)
    app.connect("builder-inited", _prepare_notebooks)
    app.connect("html-page-context", _write_notebook, priority=600)
    app.connect("html-page-context", _drop_unused_thebe, priority=600)
    app.connect("html-page-context", _complete_term_tooltips, priority=600)
    app.connect("build-finished", _copy_self_hosted_assets)
    # Opened from disk (file://), the browser forbids the search page to fetch the pages it would
    # quote in its result summaries: show the results without them rather than log errors.
    app.add_js_file(None, body='if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS === "object") '
                               '{ DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false; }')
    app.connect("env-get-outdated", _outdated_by_inputs)
    app.connect("doctree-read", _record_terms)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _add_back_links)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
