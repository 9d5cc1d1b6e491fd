"""The layers, split as Flux's ``src/layers``: :mod:`.basic` (Dense, Chain, Scale, Embedding),
:mod:`.dataflow` (SkipConnection, Parallel), :mod:`.normalise` (Dropout, BatchNorm, LayerNorm) and
:mod:`.show` (how models print)."""

from pyflux.layers.basic import Chain, Dense, Embedding, Scale
from pyflux.layers.dataflow import Parallel, SkipConnection
from pyflux.layers.normalise import BatchNorm, Dropout, LayerNorm

__all__ = ["BatchNorm", "Chain", "Dense", "Dropout", "Embedding", "LayerNorm", "Parallel", "Scale", "SkipConnection"]
