"""Walking models: which Params a model holds, and structures that mirror a model.

A layer declares its fields in ``_fields`` (Flux's struct fields, e.g. Dense's
``("weight", "bias", "σ")``); tuples, lists and dicts are walked element by element. A structure
mirroring a layer is a namedtuple named after the layer's class with the same fields, so a gradient
reads ``grads.layers[0].weight`` as in Flux.
"""

from collections import namedtuple
from functools import lru_cache

from pyflux.param import Param


def is_layer(x):
    return isinstance(getattr(type(x), "_fields", None), tuple) and not isinstance(x, tuple)


def children(x):
    """The (key, child) pairs of a layer or container; empty for anything else."""
    if is_layer(x):
        return [(name, getattr(x, name)) for name in type(x)._fields]
    if isinstance(x, (tuple, list)):
        return list(enumerate(x))
    if isinstance(x, dict):
        return list(x.items())
    return []


def trainables(*xs):
    """Every Param reachable from xs, once each, in depth-first order (Flux's ``params`` order)."""
    found, seen = [], set()
    stack = list(reversed(xs))
    while stack:
        x = stack.pop()
        if isinstance(x, Param):
            if id(x) not in seen:
                seen.add(id(x))
                found.append(x)
            continue
        stack.extend(child for _, child in reversed(children(x)))
    return found


def holds_params(x):
    return bool(trainables(x))


@lru_cache(maxsize=None)
def _mirror_type(cls):
    return namedtuple(cls.__name__, cls._fields)


def mirror(x, leaf, default=None):
    """A structure shaped like x: ``leaf(p)`` at each Param, ``default`` where nothing is trainable."""
    if isinstance(x, Param):
        return leaf(x)
    if is_layer(x):
        return _mirror_type(type(x))(*(mirror(child, leaf, default) for _, child in children(x)))
    if isinstance(x, tuple):
        items = [mirror(c, leaf, default) for c in x]
        return type(x)(*items) if hasattr(type(x), "_fields") else tuple(items)
    if isinstance(x, list):
        return [mirror(c, leaf, default) for c in x]
    if isinstance(x, dict):
        return {k: mirror(c, leaf, default) for k, c in x.items()}
    return default


def zip_leaves(x, y):
    """Pairs (param, y_at_param) walking x and a mirror y of it together; y may be None in places."""
    pairs, stack = [], [(x, y)]
    while stack:
        a, b = stack.pop()
        if b is None:
            continue
        if isinstance(a, Param):
            pairs.append((a, b))
            continue
        kids = children(a)
        for key, child in reversed(kids):
            if is_layer(a):
                stack.append((child, getattr(b, key, None)))
            elif isinstance(b, (tuple, list)) and isinstance(key, int) and key < len(b):
                stack.append((child, b[key]))
            elif isinstance(b, dict) and key in b:
                stack.append((child, b[key]))
    return pairs
