"""APScheduler wiring for the jobs in kb.jobs (their settings come from service.config.Settings).

Every process that starts a scheduler (``kb scheduler``, or each gunicorn
worker of ``kb serve`` with KB_RUN_SCHEDULER=1) ticks, but a job runs only
in the process holding the database lease (kb.jobs.lease_for); the others
stay on standby and take over within one lease period when the holder stops.
See docs/corrections.md.
"""
from __future__ import annotations

import atexit
import logging
import random
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from kb import compliance, jobs
from kb.services.tasks import CorrectionSettings
from scoring_hooks import scoring, webhooks
from service.config import Settings, correction_settings, smtp_settings

__all__ = ["AT_DAY_START", "JOBS", "SCHEDULE", "Scheduler", "close_month", "correction_settings", "deliver_webhooks", "jobs_for",
           "start_in_app"]

log = logging.getLogger(__name__)


def deliver_webhooks(ctx: jobs.JobContext, settings: Settings | None = None) -> dict:
    """Send the webhook deliveries that are due (scoring_hooks.webhooks.deliver_due); kb cannot import it.

    Only to the hosts KB_WEBHOOK_ALLOWED_HOSTS allows (public addresses when unset), checked again on the
    address each connection reached: the scheduler's settings, or (run on its own) the environment's now.
    """
    settings = settings or Settings.from_env()
    hosts = settings.receiver_hosts
    return webhooks.deliver_due(ctx.uow_factory, ctx.clock, secret_box=settings.secret_box, allows=hosts.allows,
                                connection_allowed=hosts.connection_allowed)


def close_month(ctx: jobs.JobContext, settings: Settings | None = None) -> dict:
    """Freeze last month's compliance counts once it has ended, under the service's and every profile's
    deadlines, and announce period.closed; a rerun finds it closed and does nothing."""
    now = ctx.clock()
    profiles = dict((settings or Settings.from_env()).scoring)
    return compliance.close_month(ctx.uow_factory(), compliance.last_ended_month(now), now=now,
                                  rule_sets=scoring.rule_sets(ctx.settings.rules, profiles))


def notify(ctx: jobs.JobContext, settings: Settings | None = None) -> dict:
    """Queue the reminders for what happened since the last run, then send what is due (kb.notify)."""
    from kb.notify import Sender
    from kb.services import oversight

    settings = settings or Settings.from_env()
    now = ctx.clock()
    queued = oversight.collect(ctx.uow_factory(), now=now, digest_hour=int(settings["DIGEST_HOUR"]))
    secrets = oversight.robot_secrets(ctx.uow_factory(write=False), settings.secret_box)
    sender = Sender(smtp_settings(settings), robot_secrets=secrets)
    return {"queued": queued, **oversight.deliver_due(ctx.uow_factory, now=now, send=sender)}


def purge_search_log(ctx: jobs.JobContext, settings: Settings | None = None) -> dict:
    """Drop search-log rows past KB_SEARCH_LOG_RETENTION_DAYS (kb.jobs.purge_search_log)."""
    return jobs.purge_search_log(ctx, retention_days=(settings or Settings.from_env())["SEARCH_LOG_RETENTION_DAYS"])


# kb's jobs and the ones of the outer layers; run_job records a JobRun for each alike.
JOBS: dict[str, Callable[[jobs.JobContext], dict]] = {
    **jobs.JOBS, "deliver_webhooks": deliver_webhooks, "close_month": close_month, "notify": notify,
    "purge_search_log": purge_search_log}


def jobs_for(settings: Settings) -> dict[str, Callable[[jobs.JobContext], dict]]:
    """JOBS, the outer layers' jobs reading `settings` (the process's, built once) rather than the environment."""
    return {**jobs.JOBS, "deliver_webhooks": lambda ctx: deliver_webhooks(ctx, settings),
            "close_month": lambda ctx: close_month(ctx, settings), "notify": lambda ctx: notify(ctx, settings),
            "purge_search_log": lambda ctx: purge_search_log(ctx, settings)}

# Minutes between runs. Every job only picks up what is due and not yet done, so running often is cheap.
SCHEDULE: dict[str, int] = {
    "mark_overdue": 15,
    "remind_due_soon": 30,
    "open_verification_tasks": 60,
    "open_expiry_tasks": 60,
    "switch_scheduled_versions": 5,  # catch-up only: AT_DAY_START runs it at the boundary itself
    "withdraw_expired_notices": 60,
    "recompute_provisional_deadlines": 60,
    "deliver_webhooks": 1,
    "close_month": 60,
    "notify": 1,
    "purge_search_log": 60,
}

# Jobs that also run at the start of every day in Asia/Shanghai, to the second: a modification published with
# a future date of effect replaces the live version when that day begins (Art. 10(2)), not minutes later.
# The interval runs above stay as the catch-up (a host that was down at midnight, a leader lost meanwhile).
AT_DAY_START: tuple[str, ...] = ("switch_scheduled_versions",)
SCHEDULER_TIMEZONE = "Asia/Shanghai"


class Scheduler:
    """The scheduled jobs of one process, run only while it holds the lease."""

    def __init__(self, engine, uow_factory: Callable[[], object], clock: Callable[[], datetime],
                 settings: CorrectionSettings, *, lease_ttl: timedelta = timedelta(seconds=90),
                 holder: str | None = None, config: Settings | None = None):
        """`config`: the process's settings, which the outer layers' jobs read (else the environment)."""
        self.holder = holder or f"{jobs.this_process()}:{uuid.uuid4().hex[:6]}"
        self._jobs = jobs_for(config) if config is not None else JOBS
        self.context = jobs.JobContext(uow_factory=uow_factory, clock=clock, settings=settings)
        self.lease = jobs.lease_for(engine, uow_factory, holder=self.holder, ttl=lease_ttl)
        self._lease_ttl = lease_ttl
        self._lock = threading.Lock()
        self._scheduler = None

    def is_leader(self) -> bool:
        """Take or renew the lease; a fresh leader closes the runs its predecessor left open."""
        with self._lock:
            was_held = self.lease.held
            try:
                held = self.lease.acquire()
            except Exception:
                log.exception("scheduler lease check failed")
                return False
            if held and not was_held:
                log.info("scheduler lease taken by %s", self.holder)
                interrupted = jobs.mark_interrupted(self.context, self.holder)
                if interrupted:
                    log.warning("%d job runs of an earlier scheduler were interrupted", interrupted)
            elif was_held and not held:
                log.warning("scheduler lease lost by %s; standing by", self.holder)
            return held

    def run_if_leader(self, name: str) -> jobs.JobRunSnapshot | None:
        """Run one job if this process holds the lease: its recorded run; None on standby or when the job failed
        (the failure is logged and recorded in job_runs)."""
        if not self.is_leader():
            return None
        try:
            return jobs.run_job(name, self.context, trigger="scheduler", holder=self.holder, registry=self._jobs)
        except Exception:
            log.exception("job %s failed (recorded in job_runs)", name)
            return None

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        # Not a line per job and tick: runs are recorded in job_runs.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(timezone=SCHEDULER_TIMEZONE, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
        now = datetime.now(timezone.utc)
        heartbeat = max(5, int(self._lease_ttl.total_seconds() // 3))
        scheduler.add_job(self.is_leader, "interval", seconds=heartbeat, id="lease", next_run_time=now)
        for name, minutes in SCHEDULE.items():
            # A first run soon after start catches up on what fell due while no scheduler ran.
            first = now + timedelta(seconds=30 + random.randint(0, 60))
            scheduler.add_job(self.run_if_leader, "interval", args=[name], minutes=minutes, id=name,
                              next_run_time=first)
        for name in AT_DAY_START:
            scheduler.add_job(self.run_if_leader, "cron", args=[name], hour=0, minute=0, second=0,
                              timezone=SCHEDULER_TIMEZONE, id=f"{name}@day-start")
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started (%s); jobs run while this process holds the lease", self.holder)

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        with self._lock:
            try:
                self.lease.release()
            except Exception:  # the database may already be gone; the lease lapses by itself
                log.warning("scheduler lease could not be released")


def start_in_app(app) -> Scheduler:
    """Start a standby scheduler in this web process (KB_RUN_SCHEDULER); the lease decides who runs jobs."""
    ctx = app.extensions["kb"]
    settings: Settings = app.extensions["kb.settings"]
    scheduler = Scheduler(ctx.engine, ctx.uow, ctx.now, settings.corrections,
                          lease_ttl=timedelta(seconds=settings.lease_seconds), config=settings)
    scheduler.start()
    app.extensions["kb.scheduler"] = scheduler
    atexit.register(scheduler.shutdown)
    return scheduler
