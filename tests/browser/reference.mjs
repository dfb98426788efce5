// Opens the API reference at /reference in headless Chromium through the
// DevTools protocol, with every host name but the server's unresolvable
// (run.sh starts Chromium so), and checks what an integrator would see:
// - POST /v1/apps, its summary and the first of its x-codeSamples, all as
//   the served document has them, on screen;
// - every request sample rendered is one of the document's x-codeSamples,
//   never a snippet Scalar generated;
// - the page asked nothing of any other host, broke no rule of its
//   Content-Security-Policy and threw nothing.
// Saves a screenshot of the operation.
//
// usage: node --experimental-websocket reference.mjs DEVTOOLS_WS_URL BASE_URL SCREENSHOT_PATH
import { connect } from './devtools.mjs';

const [, , debuggerUrl, baseUrl, screenshotPath] = process.argv;
const { opened, send, on, evaluate, waitFor, screenshot } = connect(debuggerUrl);
const squeeze = (text) => text.replace(/\s+/g, ' ').trim();

function operationOf(spec, operationId) {
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation?.operationId === operationId) return { path, method: method.toUpperCase(), operation };
    }
  }
  throw new Error(`the served document has no operation ${operationId}`);
}

opened.then(async () => {
  try {
    const spec = await (await fetch(`${baseUrl}/openapi.json`)).json();
    const { path, method, operation } = operationOf(spec, 'create_app');
    const sample = operation['x-codeSamples']?.[0];
    if (!sample) throw new Error('create_app has no x-codeSamples in the served document');
    const documentSamples = Object.values(spec.paths)
      .flatMap((item) => Object.values(item))
      .flatMap((each) => each?.['x-codeSamples'] ?? [])
      .map((each) => squeeze(each.source));

    const requests = [];
    on('Network.requestWillBeSent', ({ request }) => requests.push(request.url));
    const exceptions = [];
    on('Runtime.exceptionThrown', ({ exceptionDetails }) =>
      exceptions.push(exceptionDetails.exception?.description ?? exceptionDetails.text));
    await send('Network.enable');
    await send('Runtime.enable');
    await send('Page.enable');
    await send('Page.addScriptToEvaluateOnNewDocument', {
      source: `window.policyViolations = [];
        document.addEventListener('securitypolicyviolation', (event) =>
          window.policyViolations.push({ directive: event.violatedDirective, blocked: event.blockedURI }));`,
    });
    // Scalar's own anchor for an operation: its tag, method and path.
    const anchor = `tag/${operation.tags[0]}/${method}${path}`;
    await send('Page.navigate', { url: `${baseUrl}/reference#${anchor}` });

    const section = `[...document.querySelectorAll('[id]')].find((element) => element.id.endsWith(${JSON.stringify(anchor)}))`;
    const sampleCode = `[...(${section})?.querySelectorAll('pre code') ?? []]
      .find((code) => code.innerText.replace(/\\s+/g, ' ').trim() === ${JSON.stringify(squeeze(sample.source))})`;
    const onScreen = (element) => `(() => {
      const element = ${element};
      if (!element) return false;
      element.scrollIntoView({ block: 'center' });
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
        && getComputedStyle(element).visibility === 'visible';
    })()`;
    await waitFor(`!!(${section})`, `the section of ${method} ${path}`);
    const heading = `[...(${section}).querySelectorAll('h1, h2, h3')].find((h) => h.innerText.trim() === ${JSON.stringify(operation.summary)})`;
    await waitFor(onScreen(heading), `the heading "${operation.summary}" on screen`);
    await waitFor(onScreen(sampleCode), `create_app's x-codeSamples "${sample.label}" on screen`);
    await screenshot(screenshotPath, { fullPage: false });

    // Scalar renders the operations near the view only; those it rendered
    // must show the document's samples or none.
    const rendered = await evaluate(`[...document.querySelectorAll('.request-card pre code')]
      .map((code) => code.innerText.replace(/\\s+/g, ' ').trim())`);
    const generated = rendered.filter((code) => !documentSamples.includes(code));
    if (generated.length > 0) throw new Error(`samples not from x-codeSamples: ${JSON.stringify(generated)}`);

    const origin = new URL(baseUrl).origin;
    const elsewhere = requests.filter((url) => !/^(data|blob):/.test(url) && new URL(url).origin !== origin);
    if (elsewhere.length > 0) throw new Error(`requests to other hosts: ${elsewhere.join(', ')}`);
    if (!requests.includes(`${origin}/openapi.yaml`)) throw new Error(`the page did not load /openapi.yaml: ${requests}`);
    // Scalar's schema library probes once whether it may compile validators
    // with Function(''); refused, it validates without. Anything else the
    // policy refused is something the page needed.
    const violations = (await evaluate('window.policyViolations')).filter(
      ({ directive, blocked }) => !(directive === 'script-src' && blocked === 'eval'));
    if (violations.length > 0) throw new Error(`Content-Security-Policy violations: ${JSON.stringify(violations)}`);
    if (exceptions.length > 0) throw new Error(`the page threw: ${exceptions.join('; ')}`);

    console.log(`reference: ${method} ${path} shows its "${sample.label}" sample; ${requests.length} requests, all to ${origin}`);
    process.exit(0);
  } catch (error) {
    console.error(`reference: ${error.message}`);
    process.exit(1);
  }
});
