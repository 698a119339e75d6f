/**
 * Readiness (`GET /api/health/ready`): whether this node can serve requests now — its database
 * answers a trivial query, its shared stores (Redis, when configured) answer a PING, and the app
 * is neither starting nor shutting down. Each check has a short deadline, so a hung dependency
 * makes the probe fail rather than hang; concurrent probes share one run, so a storm of probes
 * costs one query. Failures name the check and say what happened in words of our own: driver
 * messages (which can carry host names or user names) never reach the answer.
 */

/** One dependency to check; `run` rejects (or never settles) when it is not usable. */
export interface ReadinessCheck {
  /** Reported to the prober: `database`, `redis`… */
  readonly name: string;
  run(): Promise<void>;
}

export type ReadinessFailure = { code: 'health_check_failed' | 'health_check_timeout' | 'health_app_state'; message: string };

export interface ReadinessReport {
  ready: boolean;
  /** `ok` per passed check; the failed ones with a code and a message. */
  checks: Record<string, 'ok' | ReadinessFailure>;
}

/** How long one check may take. @default 2000 ms */
export const READINESS_TIMEOUT_MS = 2000;

function withDeadline(check: ReadinessCheck, timeoutMs: number): Promise<'ok' | ReadinessFailure> {
  return new Promise((resolve) => {
    // A real I/O deadline, not domain time: the Clock port (a manual clock in tests) is not it.
    const timer = setTimeout(() => resolve({ code: 'health_check_timeout', message: `No answer within ${timeoutMs} ms.` }), timeoutMs);
    timer.unref?.();
    let started: Promise<void>;
    try {
      started = check.run();
    } catch (err) {
      started = Promise.reject(err);
    }
    started.then(
      () => {
        clearTimeout(timer);
        resolve('ok');
      },
      () => {
        clearTimeout(timer);
        resolve({ code: 'health_check_failed', message: 'The check failed.' });
      },
    );
  });
}

export class Readiness {
  private running: Promise<ReadinessReport> | null = null;
  private state: 'ready' | 'closing' = 'ready';

  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly timeoutMs = READINESS_TIMEOUT_MS,
    /** Why the app cannot serve for a while (a backup being restored), or null. */
    private readonly paused: () => string | null = () => null,
  ) {}

  /** Called first thing in `app.close()`: from then on the node reports not ready. */
  markClosing(): void {
    this.state = 'closing';
  }

  check(): Promise<ReadinessReport> {
    return (this.running ??= this.run().finally(() => {
      this.running = null;
    }));
  }

  private async run(): Promise<ReadinessReport> {
    const checks: ReadinessReport['checks'] = {};
    // The app exists only once start-up (migrations, system collections, settings) is done.
    const paused = this.state === 'ready' ? this.paused() : null;
    checks.app = this.state !== 'ready' ? { code: 'health_app_state', message: 'The server is shutting down.' } : paused ? { code: 'health_app_state', message: paused } : 'ok';
    const results = await Promise.all(this.checks.map((c) => withDeadline(c, this.timeoutMs)));
    this.checks.forEach((c, i) => (checks[c.name] = results[i]));
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
  }
}
