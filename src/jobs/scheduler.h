/* scheduler.h - one thread that runs timed work: periodic jobs (purging
 * expired sessions, later: deadlines, care-plan tasks, device watchdogs) and
 * one-shot timers. Work runs on the scheduler thread, one job at a time, so a
 * job must not block for long. */
#ifndef LINLI_SCHEDULER_H
#define LINLI_SCHEDULER_H

#include <stdint.h>

struct sched;
typedef void (*sched_fn)(void *arg);

struct sched *sched_start(void); /* NULL when the thread cannot start */

/* Runs fn every period_ms, first after one period. Returns a timer id (> 0)
 * or a negative status. `name` (a literal) appears in logs. */
int sched_every(struct sched *s, int64_t period_ms, sched_fn fn, void *arg, const char *name);

/* Runs fn once, delay_ms from now. */
int sched_after(struct sched *s, int64_t delay_ms, sched_fn fn, void *arg, const char *name);

/* After it returns, the timer will not start again (a run in progress finishes first). */
void sched_cancel(struct sched *s, int id);

/* Number of timers due or waiting. */
int sched_pending(struct sched *s);

/* Stops the thread after the job in progress, drops the rest, frees s. Safe on NULL. */
void sched_stop(struct sched *s);

#endif
