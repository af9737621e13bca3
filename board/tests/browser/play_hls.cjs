// Plays an HLS URL with hls.js in Chromium (driven by playwright-core) and
// prints one JSON line: how far playback got, hls.js's fatal errors, the
// video's size. Saves a screenshot of the page while it plays.
//
// usage: NODE_PATH=target/peers/node_modules node play_hls.cjs URL SCREENSHOT.png [SECONDS]
'use strict';
const { chromium } = require('playwright-core');
const hlsPath = require.resolve('hls.js/dist/hls.min.js');

async function main() {
  const [url, screenshot, secondsArg] = process.argv.slice(2);
  const want = Number(secondsArg || 5);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-gpu'],
  });
  const result = { url, fatal: [], errors: 0 };
  try {
    const page = await browser.newPage({ viewport: { width: 720, height: 560 } });
    page.on('console', (m) => console.error(`page: ${m.text()}`));
    await page.setContent('<body style="margin:0;background:#222"><video id="v" muted autoplay playsinline width="640" height="480"></video><pre id="s" style="color:#eee"></pre></body>');
    await page.addScriptTag({ path: hlsPath });
    result.mse = await page.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"'));
    await page.evaluate((src) => {
      const v = document.getElementById('v');
      window.__fatal = [];
      window.__errors = 0;
      window.__start = null;
      const hls = new Hls({ lowLatencyMode: false });
      hls.on(Hls.Events.ERROR, (_e, d) => {
        window.__errors += 1;
        if (d.fatal) window.__fatal.push(`${d.type}: ${d.details}`);
      });
      v.addEventListener('playing', () => { if (window.__start === null) window.__start = v.currentTime; });
      hls.loadSource(src);
      hls.attachMedia(v);
      setInterval(() => { document.getElementById('s').textContent = `currentTime ${v.currentTime.toFixed(2)} s`; }, 200);
    }, url);
    const deadline = Date.now() + 45000;
    let state;
    for (;;) {
      state = await page.evaluate(() => {
        const v = document.getElementById('v');
        return { t: v.currentTime, start: window.__start, fatal: window.__fatal, errors: window.__errors,
                 width: v.videoWidth, height: v.videoHeight, paused: v.paused };
      });
      const played = state.start === null ? 0 : state.t - state.start;
      if ((state.t > want && played > want) || state.fatal.length > 0 || Date.now() > deadline) break;
      await page.waitForTimeout(250);
    }
    await page.screenshot({ path: screenshot });
    Object.assign(result, { currentTime: state.t, startTime: state.start, fatal: state.fatal, errors: state.errors,
                            width: state.width, height: state.height, paused: state.paused });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
