"""An APScheduler 3.x executor running each job on a daemon thread, at most `workers` at a time.

Why not APScheduler's ThreadPoolExecutor: its concurrent.futures threads are joined when the interpreter
exits, so an agent told to stop (SIGTERM) could not exit until a long job finished, however long the
grace period. Here the agent waits for running jobs up to its grace period (`Agent.serve`) and then
exits; a job still running past it dies with the process, as it would under the SIGKILL that follows
a Kubernetes grace period.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job


class DaemonThreadExecutor(BaseExecutor):
    """Each run on its own daemon thread; a semaphore caps how many run at once."""

    def __init__(self, max_workers: int = 4) -> None:
        super().__init__()
        self._slots = threading.BoundedSemaphore(max_workers)

    def _do_submit_job(self, job: Any, run_times: list[Any]) -> None:
        def work() -> None:
            with self._slots:
                try:
                    events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
                except BaseException:
                    _, exc, tb = sys.exc_info()
                    self._run_job_error(job.id, exc, tb)
                else:
                    self._run_job_success(job.id, events)

        threading.Thread(target=work, name=f"sfops-job-{job.id}", daemon=True).start()

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to join: the agent itself waits for running jobs, up to its grace period."""
