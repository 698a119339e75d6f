// Module resolution hook (node:module register) installed by Basalt's hook loader: the bare
// specifier 'basalt' resolves to the running Basalt's facade, wherever the hook file lives and
// whatever node_modules it has. Every other specifier resolves as usual (npm packages from the
// app's own node_modules). Each load of the hook files (a tsx namespace) gets its own instance of
// the facade, so it reads the Basalt that is loading them now.
let facadeUrl;

export async function initialize(data) {
  facadeUrl = data.facadeUrl;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier !== 'basalt') return nextResolve(specifier, context);
  let namespace = '';
  try {
    namespace = new URL(context.parentURL ?? '').searchParams.get('tsx-namespace') ?? '';
  } catch {
    // no parent URL: the shared instance
  }
  return { url: namespace ? `${facadeUrl}?load=${encodeURIComponent(namespace)}` : facadeUrl, shortCircuit: true, format: 'module' };
}
