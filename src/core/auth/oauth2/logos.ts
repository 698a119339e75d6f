/**
 * Provider logos for sign-in buttons (`auth-methods`, `meta/oauth2-providers`): a plain badge
 * with the provider's initial, in a colour derived from its name. Brands' own artwork is not
 * shipped; a front end that wants it keys its own images on the provider `name`.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from '../../mail/template.js';

const cache = new Map<string, string>();

export function providerLogo(name: string, displayName: string): string {
  const key = `${name}\n${displayName}`;
  let svg = cache.get(key);
  if (!svg) {
    const hue = createHash('sha256').update(name).digest()[0] * (360 / 256);
    const initial = escapeHtml((displayName || name).trim().charAt(0).toUpperCase() || '?');
    svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" role="img" aria-label="${escapeHtml(displayName || name)}"><rect width="32" height="32" rx="7" fill="hsl(${Math.round(hue)} 55% 42%)"/><text x="16" y="21.5" font-family="system-ui,sans-serif" font-size="16" font-weight="600" text-anchor="middle" fill="#fff">${initial}</text></svg>`;
    cache.set(key, svg);
  }
  return svg;
}
