// Runs before the first paint (a file, not inline: the dashboard's CSP allows no inline script):
// sets the theme on <html data-theme>, the one the user chose or else the system's
// (prefers-color-scheme; lib/theme.svelte.ts follows the system's changes while nothing is chosen).
var theme = null;
try {
  theme = localStorage.getItem('basalt.theme');
} catch {
  // Storage may be unavailable (privacy modes): the system theme applies.
}
if (theme !== 'light' && theme !== 'dark') theme = window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
document.documentElement.dataset.theme = theme;
