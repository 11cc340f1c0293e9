"""Shared code of the book: one module per concept.

- `dlbook.profiles`: the quick/full switch and each lesson's budget.
- `dlbook.data`: the registry of datasets and weight files, their resolution and loaders
  (`dlbook.data.images`: folders of images checked and cleaned for Keras).
- `dlbook.plots`: the book's figures (learning curves, image grids, confusion matrices).
- `dlbook.chapter`: the one call each chapter makes first (seeds, banner, plot style).
- `dlbook.site`: the machinery that builds the site (glossary page, Sphinx extension, Colab
  notebooks, self-hosted assets); chapters never import it.
"""

__version__ = "0.1.0"
