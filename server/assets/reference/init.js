// Mounts Scalar on the served openapi.yaml. Kept out of the page so the
// page's Content-Security-Policy can refuse every inline script.
//
// Everything here keeps the page on this server and on our own samples:
// - hiddenClients: true hides every snippet Scalar would generate, so an
//   operation shows the x-codeSamples of openapi.yaml and nothing else;
// - no proxyUrl: "Test Request" calls this server directly, never a proxy;
// - withDefaultFonts: false, or the page would load its fonts from the web;
// - telemetry off, the agent (on by default on localhost) and the developer
//   tools (likewise) off: each would reach Scalar's own hosts.
Scalar.createApiReference('#reference', {
  url: '/openapi.yaml',
  hiddenClients: true,
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: 'never',
  documentDownloadType: 'yaml',
});
