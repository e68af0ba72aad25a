"""Ctrl-C ignored in the forkserver, and so in every pool worker from its first instruction.

Imported only by the forkserver of the process pool (its preload list in
:mod:`sim.sweep.executors`), never by the main process. The forkserver forks every pool worker
and hands it the signal handlers it had before it started serving; importing this module first
makes Ctrl-C ignored among them, so a worker ignores a Ctrl-C sent to the whole process group
from its first instruction (before the pool's initializer runs, it would die with a traceback).
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
