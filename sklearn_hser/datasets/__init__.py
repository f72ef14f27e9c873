"""Corpus loaders, the synthetic demo corpus, fixtures and evaluation splits."""
