/**
 * Live validation by the server: the collection editor asks `POST /api/collections/meta/validate`
 * (the dry run of a save) once typing stops. One request at a time: what changes while one is in
 * flight is sent after it, latest only; an answer for an older draft than the last one scheduled
 * is dropped, so a slow answer never overwrites a newer one. `cancel()` (a save, leaving) drops
 * whatever is pending or in flight.
 */

/** The server's verdict: `{}` when the draft would save, else its field errors as flat paths. */
export type Verdict = Record<string, string>;

export interface LiveValidatorOptions<T> {
  /** Asks the server; resolves with the verdict, or `null` when there is none to show (offline, 5xx). */
  check: (draft: T) => Promise<Verdict | null>;
  /** Called with each verdict that is still current, and the draft it judged. */
  onverdict: (verdict: Verdict, draft: T) => void;
  /** Quiet time after the last change before asking. @default 400 */
  delayMs?: number;
}

export class LiveValidator<T> {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  private queued: { draft: T } | null = null;
  /** Bumped on every schedule and cancel: an answer carries the value it was asked at. */
  private generation = 0;

  constructor(private readonly options: LiveValidatorOptions<T>) {}

  /** The draft changed: ask about it once typing has stopped. */
  schedule(draft: T): void {
    this.generation++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.queued = { draft };
      void this.pump();
    }, this.options.delayMs ?? 400);
  }

  /** Forgets the pending question and any answer still to come. */
  cancel(): void {
    this.generation++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queued = null;
  }

  private async pump(): Promise<void> {
    if (this.inFlight || this.queued === null) return;
    const { draft } = this.queued;
    this.queued = null;
    const asked = this.generation;
    this.inFlight = true;
    let verdict: Verdict | null = null;
    try {
      verdict = await this.options.check(draft);
    } catch {
      verdict = null;
    } finally {
      this.inFlight = false;
    }
    // Stale when the draft changed since (a newer question is scheduled or queued) or was cancelled.
    if (verdict !== null && asked === this.generation) this.options.onverdict(verdict, draft);
    void this.pump();
  }
}
