"""Child processes that a test interrupts with SIGINT.

A shell that starts a command in the background without job control (`cmd &` in a script, `nohup`) sets
SIGINT to "ignore" for it, and its children inherit that; Python then installs no KeyboardInterrupt
handler, so a SIGINT sent by a test would do nothing and the run would finish normally.  A test that
means to interrupt a command starts it with SIGINT back at its default, wherever the suite was started.
"""
from __future__ import annotations

import signal


def default_sigint() -> None:
    """preexec_fn for subprocess.Popen: SIGINT handled as a terminal's Ctrl-C would be."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
