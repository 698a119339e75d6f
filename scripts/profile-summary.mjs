// Summarises a .cpuprofile: self time by function and by file (for finding hot paths).
// Usage: node scripts/profile-summary.mjs file.cpuprofile [top]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const files = new Map();
for (const [id, t] of self) {
  const { callFrame } = byId.get(id);
  const url = callFrame.url.replace(/^.*\/(node_modules\/[^/]+|work\/main\/dist)\//, '$1/').replace('file://', '');
  const key = `${callFrame.functionName || '(anon)'} ${url}:${callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  const f = url || callFrame.functionName;
  files.set(f, (files.get(f) ?? 0) + t);
}
const show = (m, title) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show(files, 'self time by file');
show(fn, 'self time by function');
