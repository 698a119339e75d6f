/** The dashboard's accent colour (dashboard/src/lib/accent.ts): what it accepts, the text drawn on it. */
import { describe, expect, it } from 'vitest';
import { accentTextOn, isHexColor, luminance } from '../../dashboard/src/lib/accent.js';

describe('accent colour', () => {
  it('accepts #RRGGBB only (what the settings validate)', () => {
    expect(isHexColor('#1055c9')).toBe(true);
    expect(isHexColor('#ABCDEF')).toBe(true);
    for (const bad of ['', '1055c9', '#105', '#1055c9ff', 'red', '#10 5c9', 'url(x)', '#1055c9;color:red']) expect(isHexColor(bad)).toBe(false);
  });

  it('computes the WCAG luminance', () => {
    expect(luminance('#000000')).toBe(0);
    expect(luminance('#ffffff')).toBeCloseTo(1, 6);
    expect(luminance('#808080')).toBeCloseTo(0.2159, 3);
  });

  it('draws white on dark accents and near-black on light ones', () => {
    expect(accentTextOn('#1055c9')).toBe('#ffffff');
    expect(accentTextOn('#b3261e')).toBe('#ffffff');
    expect(accentTextOn('#ffd60a')).toBe('#0c1426');
    expect(accentTextOn('#8ab0ff')).toBe('#0c1426');
  });
});
