#!/usr/bin/env python3
"""Drives headless Chromium through the DevTools protocol, for browser tests.

Chromium is started with --remote-debugging-pipe: it reads protocol commands
from its fd 3 and writes answers and events to its fd 4, each message one JSON
object ended by a NUL byte. No websocket and no package beyond Python's own
library. The steps run in the order given, in one page that stays open, so a
test can act while a page is live (cause an alert, then see it appear):

  browser.py --chromium=/usr/bin/chromium --user_data_dir=DIR \
      --goto=http://127.0.0.1:8466/alerts.html \
      --wait='document.body.dataset.streaming === "true"' \
      --run='georiskctl import change.jsonl --ingest=...' \
      --wait='document.querySelector("tr[data-live]") !== null' \
      --screenshot=alerts.png --dom=alerts.html

Steps:
  --goto=URL            navigate and wait for the load event
  --wait=EXPR           poll the JavaScript expression until it is truthy
                        (every 100 ms, up to --timeout seconds: else exit 3)
  --eval=EXPR           evaluate it (promises awaited); its value is printed
  --run=COMMAND         run a command (split as a shell would, not through
                        one); a non-zero exit ends the run with exit 4
  --upload=SELECTOR=PATH  put the file in the <input type=file>, as a user
                        choosing it would (its change event fires)
  --screenshot=PATH     the whole page as PNG
  --viewport_shot=PATH  what the window shows (--window), as PNG
  --dom=PATH            document.documentElement.outerHTML

The page's console messages and uncaught exceptions go to stderr. Exit 0 when
every step succeeded; Chromium is stopped in every case.
"""

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
import threading
import time


class Browser:
    """One Chromium process and one page (a flattened target session)."""

    def __init__(self, chromium, user_data_dir, width, height):
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Out of the way of 3 and 4, which the child's dup2 writes.
        fds = [os.dup(fd) for fd in (to_chrome_r, from_chrome_w)]
        while min(fds) <= 4:
            fds = [os.dup(fd) for fd in fds]
        child_in, child_out = fds

        def wire():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self._proc = subprocess.Popen(
            [chromium, '--headless', '--no-sandbox', '--disable-gpu',
             '--no-first-run', '--disable-extensions',
             '--disable-background-networking', '--hide-scrollbars',
             '--remote-debugging-pipe', '--user-data-dir=' + user_data_dir,
             '--window-size=%d,%d' % (width, height), 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=wire, close_fds=False)
        for fd in (to_chrome_r, from_chrome_w, child_in, child_out):
            os.close(fd)
        self._out = os.fdopen(to_chrome_w, 'wb', buffering=0)
        self._in = os.fdopen(from_chrome_r, 'rb', buffering=0)
        self._next_id = 0
        self._replies = {}
        self._cv = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call('Target.createTarget', {'url': 'about:blank'})
        self._session = self.call('Target.attachToTarget',
                                  {'targetId': target['targetId'],
                                   'flatten': True})['sessionId']
        for method in ('Page.enable', 'Runtime.enable'):
            self.call(method, session=True)
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': width, 'height': height, 'deviceScaleFactor': 1,
                   'mobile': False}, session=True)
        self._loaded = threading.Event()

    def _read(self):
        buffer = b''
        while True:
            chunk = self._in.read(65536)
            if not chunk:
                break
            buffer += chunk
            while b'\0' in buffer:
                raw, buffer = buffer.split(b'\0', 1)
                self._dispatch(json.loads(raw))
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def _dispatch(self, message):
        if 'id' in message:
            with self._cv:
                self._replies[message['id']] = message
                self._cv.notify_all()
            return
        method = message.get('method', '')
        params = message.get('params', {})
        if method == 'Page.loadEventFired':
            self._loaded.set()
        elif method == 'Runtime.consoleAPICalled':
            text = ' '.join(str(a.get('value', a.get('description', '')))
                            for a in params.get('args', []))
            print('console.%s: %s' % (params.get('type'), text),
                  file=sys.stderr)
        elif method == 'Runtime.exceptionThrown':
            details = params.get('exceptionDetails', {})
            print('exception: %s' % details.get('exception', {}).get(
                'description', details.get('text')), file=sys.stderr)

    def call(self, method, params=None, session=False, timeout=60):
        with self._cv:
            self._next_id += 1
            id_ = self._next_id
        message = {'id': id_, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = self._session
        self._out.write(json.dumps(message).encode() + b'\0')
        deadline = time.monotonic() + timeout
        with self._cv:
            while id_ not in self._replies:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise RuntimeError('%s: no answer from Chromium' % method)
                self._cv.wait(left)
            reply = self._replies.pop(id_)
        if 'error' in reply:
            raise RuntimeError('%s: %s' % (method, reply['error']))
        return reply.get('result', {})

    def goto(self, url, timeout):
        self._loaded.clear()
        result = self.call('Page.navigate', {'url': url}, session=True)
        if result.get('errorText'):
            raise RuntimeError('%s: %s' % (url, result['errorText']))
        if not self._loaded.wait(timeout):
            raise RuntimeError('%s: no load event in %ss' % (url, timeout))

    def eval(self, expression):
        result = self.call('Runtime.evaluate',
                           {'expression': expression, 'returnByValue': True,
                            'awaitPromise': True}, session=True)
        if 'exceptionDetails' in result:
            details = result['exceptionDetails']
            raise RuntimeError('%s: %s' % (expression, details.get(
                'exception', {}).get('description', details.get('text'))))
        return result.get('result', {}).get('value')

    def upload(self, selector, path):
        root = self.call('DOM.getDocument', session=True)['root']['nodeId']
        node = self.call('DOM.querySelector',
                         {'nodeId': root, 'selector': selector},
                         session=True)['nodeId']
        if not node:
            raise RuntimeError('no element %s' % selector)
        self.call('DOM.setFileInputFiles',
                  {'nodeId': node, 'files': [os.path.abspath(path)]},
                  session=True)

    def screenshot(self, path, whole_page=True):
        data = self.call('Page.captureScreenshot',
                         {'format': 'png',
                          'captureBeyondViewport': whole_page},
                         session=True)['data']
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call('Browser.close', timeout=10)
        except RuntimeError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class Step(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        namespace.steps.append((self.dest, values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    parser.add_argument('--user_data_dir', required=True)
    parser.add_argument('--window', default='1280,1600')
    parser.add_argument('--timeout', type=float, default=60)
    parser.set_defaults(steps=[])
    for step in ('goto', 'wait', 'eval', 'run', 'upload', 'screenshot',
                 'viewport_shot', 'dom'):
        parser.add_argument('--' + step, action=Step, dest=step)
    args = parser.parse_args()
    width, height = (int(x) for x in args.window.split(','))
    browser = Browser(args.chromium, args.user_data_dir, width, height)
    try:
        for kind, value in args.steps:
            print('step %s %s' % (kind, value[:120]), file=sys.stderr)
            if kind == 'goto':
                browser.goto(value, args.timeout)
            elif kind == 'wait':
                deadline = time.monotonic() + args.timeout
                while not browser.eval(value):
                    if time.monotonic() > deadline:
                        print('timed out after %ss waiting for %s' %
                              (args.timeout, value), file=sys.stderr)
                        return 3
                    time.sleep(0.1)
            elif kind == 'eval':
                print(json.dumps(browser.eval(value)))
            elif kind == 'run':
                done = subprocess.run(shlex.split(value), check=False)
                if done.returncode != 0:
                    print('exit %d: %s' % (done.returncode, value),
                          file=sys.stderr)
                    return 4
            elif kind == 'upload':
                selector, path = value.split('=', 1)
                browser.upload(selector, path)
            elif kind == 'screenshot':
                browser.screenshot(value)
            elif kind == 'viewport_shot':
                browser.screenshot(value, whole_page=False)
            elif kind == 'dom':
                with open(value, 'w', encoding='utf-8') as f:
                    f.write(browser.eval('document.documentElement.outerHTML'))
        return 0
    finally:
        browser.close()


if __name__ == '__main__':
    sys.exit(main())
