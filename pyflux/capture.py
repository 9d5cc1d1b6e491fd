"""Captured training: ``train(..., capture=True)``.

The first item's forward pass is traced as usual, with the data traced too; every op it ran
becomes a step of a C++ program (``_core.Program``) whose inputs are the parameters and the data
item. The program then runs every item, the first included, in C++, reading the data arrays
directly (``_core.Feed``), with no Python between steps: the same ops, tape and optimiser updates
as the general path, and so its results.

What a captured loss may do: anything built from pyflux ops on the parameters, the data and
constants (numbers, arrays), any Python in between. It must compute the same ops for every item:
the Python code of the loss runs once, so Python state it reads or changes (a counter, a list of
losses, a random draw in numpy) is fixed at its first value. Reading a traced value in Python
(``float(loss)``, ``np.asarray(x)``) raises inside gradient anyway. Dropout and BatchNorm while
active are refused with :class:`CaptureUnsupported`, since their randomness and running
statistics live in Python.

What data it reads: a :class:`~pyflux.data.DataLoader` over arrays (shuffled or not, any batch
size), a list or tuple of items, a ``zip`` of arrays, or ``itertools.repeat(item, n)``, where each
item is an array or a plain tuple of arrays and numbers of the same shapes throughout (a last
item of another shape, such as a partial batch, runs on the general path). Anything else trains
on the general path after a one-line notice. Items that are consecutive rows of float arrays are
read in place; a list given again with the same item objects reuses the check of its items (see
``_rows_plan``), so an item's array reshaped in place between calls is not seen.
"""

import itertools
import sys
import threading

import numpy as np

from pyflux import _core, native
from pyflux.callbacks import Throttled
from pyflux.data import DataLoader, _gather
from pyflux.progress import Progress, observations

# Program.run returns to Python at least this often, so that Ctrl-C, the progress line and
# throttled callbacks get their turn.
_CHUNK_SECONDS = 0.1

_capturing = threading.local()


class CaptureUnsupported(Exception):
    """A loss or model that a captured step cannot replay faithfully (raised while capturing)."""


def refuse_if_capturing(what):
    """Raises CaptureUnsupported naming ``what`` when called while a training step is captured:
    for layers whose forward pass depends on Python state (random draws, running statistics)."""
    if getattr(_capturing, "active", False):
        raise CaptureUnsupported(f"{what} cannot be captured (its state lives in Python); train it without "
                                 "capture=True")


class _Plan:
    """How train's data maps onto a Feed: the feed, whether an item is a tuple spread over the
    loss's arguments, and the items left for the general path after the feed's steps."""

    def __init__(self, feed, splat, rest=()):
        self.feed, self.splat, self.rest = feed, splat, list(rest)


def _float_array(a, dtype):
    arr = np.asarray(a)
    if arr.dtype.kind in "biu":
        return arr.astype(dtype)
    if arr.dtype not in (np.float32, np.float64):
        raise CaptureUnsupported(f"data of dtype {arr.dtype} is not float, integer or bool")
    return arr


def _loader_plan(loader, dtype):
    arrays = [_float_array(a, dtype) for a in loader._arrays]
    splat = type(loader.data) is tuple
    if isinstance(loader.data, dict) or (isinstance(loader.data, tuple) and not splat):
        raise CaptureUnsupported("a DataLoader over a dict or named tuple is passed as one argument")
    n = loader.nobs
    order = loader._epoch_order()
    order = np.arange(n) if order is None else order
    if loader.batchsize < 0:
        return _Plan(_core.Feed([np.ascontiguousarray(np.moveaxis(a, -1, 0)) for a in arrays], order, 0), splat)
    sources = [a if a.flags.c_contiguous or a.flags.f_contiguous else np.ascontiguousarray(a) for a in arrays]
    full = n // loader.batchsize * loader.batchsize
    rest = []
    if full < n and loader.partial:
        rest = [loader._pack([_gather(a, order[full:]) for a in loader._arrays])]
    return _Plan(_core.Feed(sources, order[:full], loader.batchsize), splat, rest)


# Items up to this many bytes are stacked into one array per argument (compact, one copy); larger
# ones (minibatches) are read where they are.
_STACK_BYTES = 4096

# The last lists of items found to be rows of arrays, each with its items and feed. Checking a
# list's items reads three objects an item, scattered in memory (most of a short captured run's
# time); a list given again with the same item objects (compared by identity, not read) reuses its
# feed, as the per-epoch train calls of a course do. Holding its items keeps them alive, so the
# cache is short.
_ROWS_CACHE_SIZE = 2
_rows_cache = []  # [(items as a tuple, splat, feed)], the latest first


def _rows_plan(items, splat, cache):
    """The plan of items that are consecutive rows of arrays, read in place (see Feed.of_rows), from
    the cache or made (and, with ``cache``, cached); None for other items."""
    for entry in _rows_cache if cache else ():
        if _core.same_items(items, entry[0]):
            return _Plan(entry[2], entry[1])
    feed = _core.Feed.of_rows(items, splat)
    if feed is not None and cache:
        _rows_cache.insert(0, (tuple(items), splat, feed))
        del _rows_cache[_ROWS_CACHE_SIZE:]
    return None if feed is None else _Plan(feed, splat)


def _items_plan(items, dtype, times=None, cache=False):
    """The items as a feed: all of them up to the first of another form or shape (which, with the
    rest, runs on the general path). ``cache``: the items are the caller's list or tuple, which
    may come again."""
    if not items:
        raise CaptureUnsupported("there is no data")
    splat = type(items[0]) is tuple
    parts = items[0] if splat else (items[0],)
    copy = sum(np.asarray(p).nbytes for p in parts) <= _STACK_BYTES
    if copy and times is None:
        plan = _rows_plan(items, splat, cache)
        if plan is not None:
            return plan
    order = None if times is None else np.zeros(times, np.int64)
    try:
        feed = _core.Feed.from_items(items[:1] if times is not None else items, splat, dtype, order, copy=copy)
    except ValueError:
        raise CaptureUnsupported("data items are not arrays or plain tuples of arrays and numbers") from None
    if times is not None:
        return _Plan(feed, splat, [])
    return _Plan(feed, splat, items[feed.steps:])


def plan_data(data, dtype, fresh=False):
    """The _Plan for train's ``data``; raises CaptureUnsupported naming why data cannot be fed from C++.
    ``fresh``: data is a list made for this call (from a zip), never given again."""
    if isinstance(data, DataLoader):
        return _loader_plan(data, dtype)
    if isinstance(data, itertools.repeat):
        reduced = data.__reduce__()[1]
        if len(reduced) < 2:
            raise CaptureUnsupported("itertools.repeat without a count never ends")
        return _items_plan([reduced[0]], dtype, times=reduced[1])
    if isinstance(data, zip):
        return _items_plan(list(data), dtype)
    if type(data) in (list, tuple):
        return _items_plan(data, dtype, cache=not fresh)
    if isinstance(data, (list, tuple)):
        return _items_plan(list(data), dtype)
    raise CaptureUnsupported(f"data of type {type(data).__name__} is read item by item in Python (use a list, "
                             "a zip of arrays, itertools.repeat or a DataLoader over arrays)")


def _common_dtype(ps):
    return np.float32 if all(p.dtype == np.float32 for p in ps) else np.float64


def _notice(reason):
    print(f"pyflux.train: capture=True falls back to the general path: {reason}", file=sys.stderr)


def _stop_on(value, i):
    raise ValueError(f"Loss is {value} on data item {i} (counting from 0), stopping training")


class CapturedTrain:
    """One pass of train with capture: ``run()`` returns the per-step losses, or None when the data
    cannot be fed from C++ (a notice says why; the caller then trains on the general path over
    ``self.data``). A loss that cannot be captured trains on the general path here."""

    def __init__(self, loss, ps, states, data, prefix, bar, callbacks):
        self.loss, self.ps, self.states, self.data = loss, ps, states, data
        self.prefix, self.bar, self.callbacks = prefix, bar, callbacks
        self._observations = 1

    def run(self):
        fresh = isinstance(self.data, zip)
        if fresh:
            self.data = list(self.data)  # read once here; the general path may need the items again
        try:
            plan = plan_data(self.data, _common_dtype(self.ps), fresh)
        except CaptureUnsupported as e:
            _notice(e)
            return None
        feed = plan.feed
        losses = np.empty(feed.steps + len(plan.rest))
        if feed.steps:
            program = self._capture(feed, plan.splat)
            if program is None:
                self._general(feed, plan.splat, losses)
            else:
                self._replay(program, feed, losses)
        for k, item in enumerate(plan.rest):
            i = feed.steps + k
            losses[i] = self._general_item(item, i)
        return losses

    def _args(self, parts, splat):
        """The loss's arguments for one item given as its parts: the prefix, then the parts spread
        (a tuple item) or the one part."""
        return (*self.prefix, *parts) if splat else (*self.prefix, parts[0])

    def _capture(self, feed, splat):
        """Step 0's forward pass, traced and recorded; the program, which then takes step 0 as it
        takes the others, or None (after a notice) when the loss cannot be captured."""
        data = feed.item(0)
        self._observations = observations(tuple(data))
        program = _core.Program(self.ps, data)
        tape = _core.Tape([*self.ps, *data])
        _capturing.active = True
        try:
            with tape, program:
                value = self.loss(*self._args(data, splat))
            program.finish(value[0] if isinstance(value, tuple) else value)
        except (CaptureUnsupported, TypeError, ValueError) as e:
            _notice(e)
            return None
        finally:
            _capturing.active = False
        return program

    def _replay(self, program, feed, losses):
        every_step = any(not isinstance(f, Throttled) for f in self.callbacks) or (
            self.bar is not None and not isinstance(self.bar, Progress))
        s = 0
        ticket = native.request(program, feed, self.states)
        while s < feed.steps:
            if ticket is not None and ticket.attach():
                ticket = None
            stop = s + 1 if every_step else feed.steps
            nxt, finite = program.run(feed, s, stop, self.states, losses, _CHUNK_SECONDS)
            self._after_steps(losses, s, nxt)
            if not finite:
                _stop_on(losses[nxt], nxt)
            s = nxt

    def _after_steps(self, losses, start, stop):
        if stop <= start:
            return
        if self.bar is not None:
            if isinstance(self.bar, Progress):
                self.bar.steps_done(losses[start:stop], self._observations)
            else:
                for s in range(start, stop):
                    self.bar.step(float(losses[s]), None)
        for f in self.callbacks:
            f()

    def _general_item(self, item, i):
        value = float(_core.train_steps(self.loss, self.ps, self.states, (item,), self.prefix, i)[0])
        if self.bar is not None:
            self.bar.step(value, item)
        for f in self.callbacks:
            f()
        return value

    def _general(self, feed, splat, losses):
        """The feed's steps on the general path, as numpy arrays."""
        for s in range(feed.steps):
            parts = [np.asarray(t) for t in feed.item(s)]
            losses[s] = self._general_item(tuple(parts) if splat else parts[0], s)
