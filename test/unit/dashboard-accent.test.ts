/** The dashboard's accent colour (dashboard/src/lib/accent.ts): what it accepts, the text drawn on it. */
import { describe, expect, it } from 'vitest';
import { accentTextOn, contrast, isHexColor, luminance, readableAccent, THEME_SURFACES } from '../../dashboard/src/lib/accent.js';

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

describe('the accent as drawn on each theme', () => {
  it('keeps a colour that already reads on the theme', () => {
    expect(readableAccent('#0b6e4f', THEME_SURFACES.light)).toBe('#0b6e4f');
    expect(readableAccent('#8ab0ff', THEME_SURFACES.dark)).toBe('#8ab0ff');
  });

  it('darkens a light accent on the light theme and lightens a dark one on the dark theme, to 4.5:1', () => {
    for (const [hex, surface] of [
      ['#ffd60a', THEME_SURFACES.light],
      ['#0b6e4f', THEME_SURFACES.dark],
      ['#000080', THEME_SURFACES.dark],
      ['#ffffff', THEME_SURFACES.light],
    ] as const) {
      const drawn = readableAccent(hex, surface);
      expect(drawn).not.toBe(hex);
      expect(contrast(drawn, surface)).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('computes WCAG contrast both ways round', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#777777')).toBe(1);
  });
});
