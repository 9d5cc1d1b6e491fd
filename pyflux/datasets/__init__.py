"""Datasets read from files the user already has (no downloads): MNIST in IDX format."""

from pyflux.datasets.mnist import load_mnist, read_idx

__all__ = ["load_mnist", "read_idx"]
