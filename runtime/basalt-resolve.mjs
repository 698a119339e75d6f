// Module resolution hook (node:module register) installed by Basalt's hook loader: the bare
// specifier 'basalt' (and 'basalt/…') resolves to the running Basalt's facade, wherever the
// hook file lives and whatever node_modules it has. Every other specifier resolves as usual
// (npm packages from the app's own node_modules).
let facadeUrl;

export async function initialize(data) {
  facadeUrl = data.facadeUrl;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'basalt' || specifier === 'basalt/hooks') return { url: facadeUrl, shortCircuit: true, format: 'module' };
  return nextResolve(specifier, context);
}
