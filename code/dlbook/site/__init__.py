"""The machinery that builds the book's site, kept apart from the modules the chapters import.

- `dlbook.site.sphinxext`: the Sphinx extension (`book/_config.yml`): glossary page and back-links,
  chapter notebooks for Colab, self-hosted web assets, and the execution cache's package digest.
- `dlbook.site.glossary`: the glossary as data (`glossary/*.yml`), validated and rendered.
- `dlbook.site.notebooks`: chapters as `.ipynb` with a Colab install cell.
- `dlbook.site.selfhost`: pinned MathJax, popper and tippy copied into the site for offline reading.
"""
