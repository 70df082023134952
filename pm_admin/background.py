"""Work a request starts and does not wait for: a thread of the worker that took it.

Each job must be safe to run twice at once and to be cut off (a killed worker): it
claims its rows, and what a cut-off run left undone is found by the next run. Issue 18
moves this to a job queue; callers only say what to run.
"""

import threading


def start(target, *args, name: str, wait: bool = False) -> None:
    """Run ``target(*args)`` in a daemon thread (``wait``: and wait for it, as tests do)."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    if wait:
        thread.join()
