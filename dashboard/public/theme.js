// Runs before the first paint (a file, not inline: the dashboard's CSP allows no inline script):
// applies the theme the user chose, if any; without one, CSS follows prefers-color-scheme.
try {
  var theme = localStorage.getItem('basalt.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch {
  // Storage may be unavailable (privacy modes): the system theme applies.
}
