/**
 * The collection editor's live validation (dashboard/src/lib/live-validation.ts): asked once
 * typing stops, one request in flight, the latest draft sent after it, stale answers dropped.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveValidator, type Verdict } from '../../dashboard/src/lib/live-validation.js';

/** A check whose answers the test releases one by one. */
function controlled() {
  const asked: string[] = [];
  const pending: ((v: Verdict | null) => void)[] = [];
  const shown: Verdict[] = [];
  const validator = new LiveValidator<string>({
    check: (draft) => {
      asked.push(draft);
      return new Promise((resolve) => pending.push(resolve));
    },
    onverdict: (v) => shown.push(v),
  });
  const answer = async (v: Verdict | null) => {
    pending.shift()!(v);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { asked, shown, validator, answer };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('LiveValidator', () => {
  it('asks 400 ms after the last change, about the last draft only', async () => {
    const { asked, validator } = controlled();
    validator.schedule('a');
    await vi.advanceTimersByTimeAsync(300);
    validator.schedule('ab');
    await vi.advanceTimersByTimeAsync(399);
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toEqual(['ab']);
  });

  it('shows the current answer, an empty verdict when valid', async () => {
    const { shown, validator, answer } = controlled();
    validator.schedule('bad');
    await vi.advanceTimersByTimeAsync(400);
    await answer({ listRule: 'Unknown field.' });
    validator.schedule('good');
    await vi.advanceTimersByTimeAsync(400);
    await answer({});
    expect(shown).toEqual([{ listRule: 'Unknown field.' }, {}]);
  });

  it('keeps one request in flight; the latest draft goes next; the stale answer is dropped', async () => {
    const { asked, shown, validator, answer } = controlled();
    validator.schedule('one');
    await vi.advanceTimersByTimeAsync(400);
    validator.schedule('two');
    await vi.advanceTimersByTimeAsync(400);
    validator.schedule('three');
    await vi.advanceTimersByTimeAsync(400);
    expect(asked).toEqual(['one']);
    await answer({ x: 'about one' });
    expect(shown).toEqual([]);
    expect(asked).toEqual(['one', 'three']);
    await answer({ x: 'about three' });
    expect(shown).toEqual([{ x: 'about three' }]);
  });

  it('drops an answer that arrives after a newer change was made', async () => {
    const { shown, validator, answer } = controlled();
    validator.schedule('one');
    await vi.advanceTimersByTimeAsync(400);
    validator.schedule('two');
    await answer({ x: 'about one' });
    expect(shown).toEqual([]);
  });

  it('cancel forgets the pending question and the answer in flight', async () => {
    const { asked, shown, validator, answer } = controlled();
    validator.schedule('one');
    await vi.advanceTimersByTimeAsync(400);
    validator.cancel();
    await answer({ x: 'late' });
    validator.schedule('two');
    validator.cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toEqual(['one']);
    expect(shown).toEqual([]);
  });

  it('no verdict (offline, a failure) shows nothing and does not stop later checks', async () => {
    let calls = 0;
    const shown: Verdict[] = [];
    const validator = new LiveValidator<string>({
      check: async () => {
        calls++;
        if (calls === 1) throw new Error('offline');
        return calls === 2 ? null : {};
      },
      onverdict: (v) => shown.push(v),
    });
    for (const draft of ['a', 'b', 'c']) {
      validator.schedule(draft);
      await vi.advanceTimersByTimeAsync(400);
    }
    expect(calls).toBe(3);
    expect(shown).toEqual([{}]);
  });
});
