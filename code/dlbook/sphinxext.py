"""Build-time glue: the glossary page from `glossary/*.yml`, and "used in" back-links.

Enabled in `book/_config.yml` under `sphinx.extra_extensions`. At start-up the YAML files are
validated (a malformed entry stops the build, naming file and entry) and rendered into
`book/glossary.md`. While pages are read, every `{term}` reference is recorded; when the glossary
page is written, each entry gets links to the chapters that use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError

from dlbook import glossary

HEADER = """\
# Glossary

Every term the course uses, defined in the book's own words and grouped by the lesson that
introduces it. A term that a later lesson uses again is listed once, with the lessons where it
returns. Under each entry, *Used in* links to the chapters that refer to it; in a chapter, hovering
over a linked term shows its definition.

<!-- This page is generated from glossary/*.yml by dlbook.sphinxext at build time: edit those files. -->

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
    # Rewrite only on change, so an unchanged glossary does not make Sphinx re-read the page.
    if not page.exists() or page.read_text(encoding="utf-8") != text:
        page.write_text(text, encoding="utf-8")


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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("dlbook_glossary_dir", "../glossary", "env")
    app.add_config_value("dlbook_glossary_page", "glossary", "env")
    # Early, so the page exists before Sphinx and the table of contents look for it.
    app.connect("config-inited", _render_glossary, priority=100)
    app.connect("doctree-read", _record_terms)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _add_back_links)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
