"""Native steps: a captured step of small buffers built into machine code for its sizes.

A captured step whose buffers are all small runs as a list of plain loops (the "loops" path). When
a C++ compiler is at hand, ``train(..., capture=True)`` also writes that step as C++ source (the
same loops, with every size and small constant written in, over arrays of the step's own that
hold its buffers while it runs, in one loop over the data items), builds it into a shared library
in the background, and runs the following steps through it once it is built: for a per-sample
step of a small network 2 to 3 times as fast as the loops. The results are the loops' up to
rounding: the arithmetic is the same code, built for the same CPU with the same math flags.

The libraries are kept in a cache folder, one per step shape (its ops, sizes, constants and
dtype), so later captures of the same model and loss, in this process or another, use them at
once. A build runs in a process of its own that finishes even if this one exits first. The folder:
``$PYFLUX_CACHE_DIR``, else ``$XDG_CACHE_HOME/pyflux``, else ``~/.cache/pyflux``, in ``steps/``.

``PYFLUX_NATIVE_STEPS=0`` turns native steps off; ``PYFLUX_NATIVE_STEPS=wait`` builds before the
first replayed step instead of in the background (tests use it, so that a run's path is known).
The compiler is ``$CXX``, else ``c++`` or ``g++`` on the path; without one the loops run, quietly.
Why a build failed, if one did, is in :func:`last_error`.
"""

import atexit
import functools
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from pyflux import _core

_lock = threading.Lock()
_built = {}  # key -> the library's path, or None when building it failed
_building = {}  # key -> the thread building it
_starting = set()  # an Event per build whose process is not started yet
_last_error = None


def mode():
    """"off", "wait" or "background", from ``PYFLUX_NATIVE_STEPS``."""
    value = os.environ.get("PYFLUX_NATIVE_STEPS", "1").strip().lower()
    if value in ("0", "off", "false", "no"):
        return "off"
    return "wait" if value == "wait" else "background"


def last_error():
    """Why the last build of a native step failed (its compiler's message), or None."""
    return _last_error


def cache_dir():
    """The folder of built steps."""
    root = os.environ.get("PYFLUX_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = os.path.join(xdg, "pyflux") if xdg else os.path.join(os.path.expanduser("~"), ".cache", "pyflux")
    return Path(root) / "steps"


def _compiler():
    cxx = os.environ.get("CXX")
    if cxx:
        return shutil.which(cxx)
    return shutil.which("c++") or shutil.which("g++")


def _include_dir():
    """The folder holding autodiff/tiny_loops.hpp: the installed headers, or the source tree's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "include", here.parent / "csrc"):
        if (candidate / "autodiff" / "tiny_loops.hpp").is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=4)
def _toolchain(cxx_variable):
    """The compiler, the include folder, the flags and what identifies this build of pyflux's core
    (for the cache key), or None without a compiler or headers; once per value of ``$CXX``."""
    cxx, include = _compiler(), _include_dir()
    if cxx is None or include is None:
        return None
    core = Path(_core.__file__)
    st = core.stat()
    identity = f"{core}:{st.st_size}:{st.st_mtime_ns}"
    return cxx, include, tuple(_core.NATIVE_STEP_FLAGS.split()), identity


@functools.lru_cache(maxsize=64)
def _key(source, toolchain):
    cxx, include, flags, identity = toolchain
    return hashlib.sha256("\n".join([source, cxx, *flags, str(include), identity]).encode()).hexdigest()[:32]


class Ticket:
    """A native step asked for: ``attach()`` makes the program run it once it is built."""

    def __init__(self, program, feed, source, key):
        self.program, self.feed, self.source, self.key = program, feed, source, key

    def attach(self):
        """Attaches the step if it is built: True when done with this ticket (attached, or its
        build failed), False while the build goes on."""
        with _lock:
            if self.key not in _built:
                return False
            path = _built[self.key]
        if path is None:
            return True
        try:
            self.program.load_native(self.feed, str(path), self.source)
        except RuntimeError as e:  # a damaged or stale library: build it again next time
            _forget(self.key, path, str(e))
        return True


def request(program, feed, optimisers):
    """A Ticket for the program's native step on this feed and optimisers, its build started (or
    finished, with ``PYFLUX_NATIVE_STEPS=wait``); None when the step has none or none can be built,
    or when one of its shape loaded earlier in this process is attached at once."""
    how = mode()
    if how == "off" or program.attach_known_native(feed, optimisers):  # off, or attached already
        return None
    source = program.native_source(feed, optimisers)
    if not source:
        return None
    toolchain = _toolchain(os.environ.get("CXX"))
    if toolchain is None:
        return None
    cxx, include, flags, _ = toolchain
    key = _key(source, toolchain)
    ticket = Ticket(program, feed, source, key)
    with _lock:
        known = key in _built or key in _building
        if not known:
            target = cache_dir() / f"{key}.so"
            if target.is_file():
                _built[key] = target
            else:
                started = threading.Event()
                _starting.add(started)
                thread = threading.Thread(target=_build, args=(key, source, cxx, flags, include, target, started),
                                          daemon=True, name="pyflux-native-step")
                _building[key] = thread
                thread.start()
        thread = _building.get(key)
    if how == "wait" and thread is not None:
        thread.join()
    return ticket


# The build, run by sh so that it finishes, filling the cache, even if this process exits first:
# the source arrives on stdin, the library is built in a folder of its own, moved into place whole
# (other processes may be reading the cache) and the folder removed, whatever happens.
_BUILD_SCRIPT = """
target=$1; shift
dir=$(mktemp -d "$(dirname "$target")/.build-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cat > "$dir/step.cpp" && "$@" "$dir/step.cpp" -o "$dir/step.so" && mv -f "$dir/step.so" "$target"
"""


def _start_build(source, cxx, flags, include, target):
    """The build's process, its source written (a pipe holds it whole, so this does not wait)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # a sanitizer's runtime, say
    command = ["sh", "-c", _BUILD_SCRIPT, "sh", str(target), cxx, *flags, "-fPIC", "-shared", "-I", str(include)]
    builder = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)
    try:
        builder.stdin.write(source)
    finally:
        builder.stdin.close()
        builder.stdin = None  # communicate() then only reads
    return builder


def _build(key, source, cxx, flags, include, target, started):
    global _last_error
    path, error = None, None
    try:
        try:
            builder = _start_build(source, cxx, flags, include, target)
        finally:
            started.set()
            with _lock:
                _starting.discard(started)
        try:
            _, stderr = builder.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(builder.pid, signal.SIGKILL)  # sh and the compiler
            _, stderr = builder.communicate()
        if builder.returncode == 0:
            path = target
        else:
            error = f"{cxx} exited with {builder.returncode}: {stderr.strip()[-2000:]}"
    except (OSError, subprocess.SubprocessError) as e:
        error = f"{type(e).__name__}: {e}"
    with _lock:
        _built[key] = path
        _building.pop(key, None)
        if error is not None:
            _last_error = error


@atexit.register
def _let_builds_start():
    """At exit, a build asked for but not yet started starts (briefly waited for): it then finishes
    on its own, so that a short script's step is cached for the next run."""
    with _lock:
        starting = list(_starting)
    for started in starting:
        started.wait(timeout=5)


def _forget(key, path, error):
    global _last_error
    with _lock:
        _built.pop(key, None)
        _last_error = error
    try:
        path.unlink()
    except OSError:
        pass
    print(f"pyflux: a cached native step did not load and runs as loops ({error})", file=sys.stderr)
