// The few DevTools protocol calls the browser tests share: a connection to
// one page, evaluating in it, waiting on what it shows, and a screenshot.
import { writeFileSync } from 'node:fs';

export function connect(debuggerUrl) {
  const socket = new WebSocket(debuggerUrl);
  let nextId = 0;
  const pending = new Map();
  const listeners = new Map();
  socket.onmessage = (message) => {
    const reply = JSON.parse(message.data);
    if (reply.id && pending.has(reply.id)) {
      pending.get(reply.id)(reply);
      pending.delete(reply.id);
    } else if (reply.method) {
      for (const listener of listeners.get(reply.method) ?? []) listener(reply.params);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  const on = (method, listener) => listeners.set(method, [...(listeners.get(method) ?? []), listener]);
  const evaluate = async (expression) =>
    (await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })).result?.result?.value;
  const waitFor = async (expression, what) => {
    for (let attempt = 0; attempt < 150; attempt++) {
      if (await evaluate(expression)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const screenshot = async (path, { fullPage = true } = {}) => {
    const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: fullPage });
    writeFileSync(path, Buffer.from(shot.result.data, 'base64'));
  };
  const opened = new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot reach the page at ${debuggerUrl}`));
  });
  return { opened, send, on, evaluate, waitFor, screenshot };
}
