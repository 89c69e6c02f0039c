"""Enqueueing background tasks. One seam, so tests can record enqueues and run the task functions directly."""


def enqueue(task, *args, queue=None):
    """Send `task` with id arguments; eager (in-process) when no broker is configured."""
    return task.apply_async(args=args, queue=queue)
