/**
 * Moves the focus to a new screen's main heading, so a screen reader announces where a link led
 * (a single-page app's route change is otherwise silent: the focus stays on the link).
 */

/** Screens load lazily and draw their heading once their data is in: wait this long for it. */
const WAIT_MS = 5000;

/**
 * Focuses the first `h1` in `container` once it appears — unless the focus moved meanwhile (an
 * input the screen focused itself, or the user's own move): that is left alone. Returns a
 * cancel function (for the next route change).
 */
export function focusHeadingWhenShown(container: HTMLElement): () => void {
  const before = container.ownerDocument.activeElement;
  const tryFocus = (): boolean => {
    const heading = container.querySelector('h1');
    if (!heading) return false;
    const active = container.ownerDocument.activeElement;
    if (active === before || active === null || active === container.ownerDocument.body) {
      if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
    return true;
  };
  if (tryFocus()) return () => {};
  const observer = new MutationObserver(() => {
    if (tryFocus()) stop();
  });
  const timer = setTimeout(() => stop(), WAIT_MS);
  const stop = () => {
    observer.disconnect();
    clearTimeout(timer);
  };
  observer.observe(container, { childList: true, subtree: true });
  return stop;
}
