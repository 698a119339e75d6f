/**
 * Light and dark themes: the system's (prefers-color-scheme) until the user picks one with the
 * toggle; the pick is remembered. `<html data-theme>` carries the theme in force (public/theme.js
 * sets it before the first paint; app.css's dark tokens hang on it).
 */
export type Theme = 'light' | 'dark';

const STORAGE_KEY = 'basalt.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');

function stored(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

class ThemeState {
  chosen: Theme | null = $state(stored());
  system: Theme = $state(media.matches ? 'dark' : 'light');
  get current(): Theme {
    return this.chosen ?? this.system;
  }
}

export const theme = new ThemeState();

media.addEventListener('change', () => {
  theme.system = media.matches ? 'dark' : 'light';
  if (!theme.chosen) document.documentElement.dataset.theme = theme.system;
});

export function setTheme(value: Theme): void {
  theme.chosen = value;
  document.documentElement.dataset.theme = value;
  try {
    localStorage.setItem(STORAGE_KEY, value);
  } catch {
    // Not remembered; applied for this visit.
  }
}
