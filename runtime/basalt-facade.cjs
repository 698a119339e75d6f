// `require('basalt')` for hook files that run as CommonJS (a .ts file outside a "type": "module"
// package): the exports of the running Basalt, as runtime/basalt-facade.mjs gives ESM files.
const rt = globalThis[Symbol.for('basalt.runtime')];
if (!rt) throw new Error("'basalt' can only be required by hook files that Basalt itself loads (or install the basalt package)");
module.exports = rt;
