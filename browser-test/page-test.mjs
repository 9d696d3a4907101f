// Browser test of the `lustra serve` web page: headless Chromium (the system's, never a downloaded one) loads `/`,
// uploads eval512 image 0 through the file input, picks a defence that localises (mask and anomaly map) and checks
// that the restored image and both predictions appear; a screenshot goes to docs/serve-page.png.
//
//   node page-test.mjs [--screenshot FILE]   (from browser-test/, after `npm ci`; default FILE out/serve-page.png)
// Environment: CHROMIUM (default /usr/bin/chromium), LUSTRA_TEST_DEFENSE (default diffender:ep:rec:abar0.7),
// LUSTRA_TEST_TIMEOUT_S (purification wait, default 120), LUSTRA_START_TIMEOUT_S (server start, default 240).
import { chromium } from "playwright-core";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ROOT, TestFailure, evalImage, fail, startServer, stopServer } from "./lustra.mjs";

// DIFFender with its reconstruction-error signal: the shipped defence that finds a region (so the page shows a
// mask and an anomaly map), about a second per image on one engine thread.
const DEFENSE = process.env.LUSTRA_TEST_DEFENSE || "diffender:ep:rec:abar0.7";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT_S = Number(process.env.LUSTRA_TEST_TIMEOUT_S || 120);
const START_S = Number(process.env.LUSTRA_START_TIMEOUT_S || 240);
// out/ is git-ignored: a CI run must not rewrite the tracked docs/serve-page.png (made with --screenshot)
const SCREENSHOT = resolve(screenshotArgument() ?? join(ROOT, "out", "serve-page.png"));

async function run() {
  if (!existsSync(CHROMIUM)) {
    fail(`No Chromium at ${CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM to its path.`);
  }
  const image = evalImage(0);
  const folder = mkdtempSync(join(tmpdir(), "lustra-page-"));
  const file = join(folder, "eval512-0.png");
  writeFileSync(file, image.png);
  let server = null;
  let browser = null;
  try {
    server = await startServer(["--defense", DEFENSE, "--workers", "1"], { startSeconds: START_S });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    const problems = [];
    page.on("pageerror", e => problems.push("script error: " + e.message));
    page.on("console", m => { if (m.type() === "error") { problems.push("console error: " + m.text()); } });

    await page.goto(server.base + "/", { timeout: 30_000 });
    // the page fills the defence list from /v1/models; its status line then names the classifier
    await page.waitForFunction(() => document.querySelectorAll("#defense option").length > 0
        || document.getElementById("error").textContent !== "", null, { timeout: 30_000 })
      .catch(() => fail("The page did not list the defences within 30 s" + logged(problems)));
    await noError(page, "loading the defences");
    const classes = (await (await fetch(server.base + "/v1/models")).json()).classifier.classes;
    const offered = await page.$$eval("#defense option", os => os.map(o => o.value));
    if (!offered.includes(DEFENSE)) {
      fail(`The page does not offer ${DEFENSE}; it offers ${offered.join(", ")}.`);
    }

    await page.setInputFiles("#file", file);
    if (await page.isDisabled("#go")) {
      fail("Choosing a file did not enable the Purify button.");
    }
    await page.selectOption("#defense", DEFENSE);
    await page.click("#go");
    await page.waitForFunction(() => document.getElementById("status").textContent === "done"
        || document.getElementById("error").textContent !== "", null, { timeout: WAIT_S * 1000 })
      .catch(() => fail(`No result on the page within ${WAIT_S} s of clicking Purify` + logged(problems)));
    await noError(page, "purifying");

    const shown = await page.evaluate(() => {
      const img = id => {
        const e = document.getElementById(id);
        return { src: e.src.slice(0, 22), width: e.naturalWidth, height: e.naturalHeight, complete: e.complete,
          visible: e.offsetParent !== null };
      };
      const text = id => document.getElementById(id).textContent;
      return { before: text("before"), after: text("after"), beforeTop: text("beforeTop"), afterTop: text("afterTop"),
        timings: text("timings"), predictionsHidden: document.getElementById("predictions").hidden,
        input: img("input"), anomaly: img("anomaly"), mask: img("mask"), purified: img("purified") };
    });
    if (shown.predictionsHidden) {
      fail("The predictions table is still hidden after the page said done.");
    }
    const before = predictedClass(shown.before, classes, "before");
    predictedClass(shown.after, classes, "after");
    if (before !== classes[image.label]) {
      fail(`Prediction before purification is "${before}"; eval512 image 0 is a ${classes[image.label]} that `
          + "classifier-resnet gets right, so the page shows the wrong prediction.");
    }
    for (const id of ["input", "anomaly", "mask", "purified"]) {
      const s = shown[id];
      if (!s.src.startsWith("data:image/png;base64") || !s.complete || !s.visible
          || s.width !== image.width || s.height !== image.height) {
        fail(`The ${id} image is not a loaded, visible ${image.width}x${image.height} PNG: ${JSON.stringify(s)}.`);
      }
    }
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    if (problems.length > 0) {
      fail("The page worked but logged errors" + logged(problems));
    }
    console.log(`page: before "${shown.before}", after "${shown.after}"; ${shown.timings}`);
    console.log(`screenshot: ${SCREENSHOT}`);
  } finally {
    if (browser) {
      await browser.close().catch(() => {});
    }
    await stopServer(server);
    rmSync(folder, { recursive: true, force: true });
  }
}

function screenshotArgument() {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    return undefined;
  }
  if (args.length !== 2 || args[0] !== "--screenshot") {
    console.error("usage: node page-test.mjs [--screenshot FILE]");
    process.exit(2);
  }
  return args[1];
}

function logged(problems) {
  return problems.length === 0 ? "." : "; the page logged: " + problems.join("; ");
}

async function noError(page, during) {
  const error = await page.textContent("#error");
  if (error) {
    fail(`The page showed an error while ${during}: ${error}`);
  }
}

/** "Trouser (99.8 %)" → "Trouser", which must be one of the classifier's class names. */
function predictedClass(text, classes, side) {
  const m = /^(.+) \((\d+(?:\.\d+)?) %\)$/.exec(text.trim());
  if (!m || !classes.includes(m[1])) {
    fail(`The "${side}" prediction reads "${text}", not "<class> (<probability> %)" with one of ${classes.join(", ")}.`);
  }
  return m[1];
}

try {
  await run();
  console.log("browser test: 1 passed, 0 failed");
} catch (e) {
  console.error("browser test failed: " + (e instanceof TestFailure ? e.message : e.stack || e));
  console.log("browser test: 0 passed, 1 failed");
  process.exitCode = 1;
}
