/** The accent colour of the settings (`meta.accentColor`, `#RRGGBB`) and the text drawn on it. */

export const isHexColor = (value: string): boolean => /^#[0-9a-fA-F]{6}$/.test(value);

/** WCAG relative luminance of a `#RRGGBB` colour. */
export function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** White or near-black, whichever contrasts more with the accent (WCAG contrast ratio). */
export function accentTextOn(hex: string): string {
  const l = luminance(hex);
  const onWhite = 1.05 / (l + 0.05);
  const onBlack = (l + 0.05) / 0.05;
  return onWhite >= onBlack ? '#ffffff' : '#0c1426';
}

/** WCAG contrast ratio of two `#RRGGBB` colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** `hex` mixed with `toward` (`#RRGGBB`) by `share` (0 to 1). */
function mix(hex: string, toward: string, share: number): string {
  const channel = (c: string, i: number) => parseInt(c.slice(i, i + 2), 16);
  const out = [1, 3, 5].map((i) => Math.round(channel(hex, i) * (1 - share) + channel(toward, i) * share));
  return `#${out.map((n) => n.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The accent as drawn on a theme whose surfaces are `surface` (its least contrasting one): as
 * chosen when it reads there (links, focus rings: WCAG AA, 4.5:1), else mixed toward black (a
 * light theme) or white (a dark one), step by step, until it does.
 */
export function readableAccent(hex: string, surface: string, minContrast = 4.5): string {
  const toward = luminance(surface) > 0.5 ? '#000000' : '#ffffff';
  for (let share = 0; share <= 1; share += 0.05) {
    const candidate = mix(hex, toward, share);
    if (contrast(candidate, surface) >= minContrast) return candidate;
  }
  return toward;
}

/** The least contrasting surfaces of the two themes (app.css's --surface-2). */
export const THEME_SURFACES = { light: '#eef0f3', dark: '#252932' } as const;
