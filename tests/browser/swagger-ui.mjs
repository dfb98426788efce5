// Drives Swagger UI at /docs in headless Chromium through the DevTools
// protocol, as an integrator would: Authorize with an API key, open
// GET /v1/apps, Try it out, Execute; then checks the live response is a 200
// listing the app the test created, and saves a screenshot.
//
// usage: node --experimental-websocket swagger-ui.mjs DEVTOOLS_WS_URL TOKEN APP_NAME SCREENSHOT_PATH
import { connect } from './devtools.mjs';

const [, , debuggerUrl, token, appName, screenshotPath] = process.argv;
const { opened, evaluate, waitFor, screenshot } = connect(debuggerUrl);
const click = (selector) => evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
const operation = '#operations-apps-list_apps';

opened.then(async () => {
  try {
    await waitFor(`!!document.querySelector('.btn.authorize')`, 'the Authorize button');
    await click('.btn.authorize');
    await waitFor(`!!document.querySelector('.modal-ux input')`, 'the authorization dialog');
    // React owns the input: set its value the way a keystroke would.
    await evaluate(`(() => {
      const input = document.querySelector('.modal-ux input');
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, ${JSON.stringify(token)});
      input.dispatchEvent(new Event('input', { bubbles: true }));
    })()`);
    await click('.modal-ux .auth-btn-wrapper .btn.modal-btn.auth.authorize');
    await waitFor(`!!document.querySelector('.modal-ux .btn-done')`, 'the authorized dialog');
    await click('.modal-ux .btn-done');
    await evaluate(`(document.querySelector('${operation} .opblock-summary-control')
      || document.querySelector('${operation} .opblock-summary')).click()`);
    await waitFor(`!!document.querySelector('${operation} .try-out__btn')`, 'Try it out');
    await click(`${operation} .try-out__btn`);
    await waitFor(`!!document.querySelector('${operation} .execute')`, 'Execute');
    await click(`${operation} .execute`);
    const statusCell = `${operation} .live-responses-table tbody .response-col_status`;
    await waitFor(`!!document.querySelector('${statusCell}')`, 'the live response');
    const status = (await evaluate(`document.querySelector('${statusCell}').innerText`)).trim();
    const body = await evaluate(`document.querySelector('${operation} .live-responses-table tbody .microlight')?.innerText ?? ''`);
    await screenshot(screenshotPath);
    if (!status.startsWith('200')) throw new Error(`Try it out answered ${status}: ${body}`);
    if (!body.includes(appName)) throw new Error(`the response does not list ${appName}: ${body}`);
    console.log(`swagger ui: Authorize + Try it out on GET /v1/apps answered ${status} with ${appName}`);
    process.exit(0);
  } catch (error) {
    console.error(`swagger ui: ${error.message}`);
    process.exit(1);
  }
});
