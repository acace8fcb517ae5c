// Drives the node's status page in a real headless Chromium (Debian's, through playwright-core;
// no browser download) and checks what a person would: the page goes live over WebSocket, the
// heads advance, the deposit, the L2 transfer and the withdrawal it is told about show up, the
// search box finds a transaction and a withdrawal's path to L1, it is keyboard-navigable and one
// column on a phone, it still works over HTTP polling without WebSocket, and nothing is logged
// as a console error. Writes status-desktop.png and status-phone.png into SCREENSHOT_DIR.
//
// Run by tests/e2e/status.rs against a running devnet. Environment:
//   STATUS_URL          the page (the node's RPC address), e.g. http://127.0.0.1:9545/
//   CHROMIUM_BIN        the browser (default /usr/bin/chromium)
//   SCREENSHOT_DIR      where the screenshots go
//   DEPOSIT_L1_TX, DEPOSIT_L2_TX, TRANSFER_TX, WITHDRAWAL_TX   what the page must show
import { chromium } from "playwright-core";
import path from "node:path";

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const url = need("STATUS_URL");
const screenshots = need("SCREENSHOT_DIR");
const depositL1 = need("DEPOSIT_L1_TX").toLowerCase();
const depositL2 = need("DEPOSIT_L2_TX").toLowerCase();
const transfer = need("TRANSFER_TX").toLowerCase();
const withdrawal = need("WITHDRAWAL_TX").toLowerCase();
const WAIT = 30_000;

const problems = [];
const watch = (page, label) => {
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`${label}: console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`${label}: uncaught: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`${label}: request failed: ${request.url()} (${request.failure()?.errorText})`));
};

async function step(name, action) {
  try {
    return await action();
  } catch (error) {
    throw new Error(`${name}: ${error.message.split("\n")[0]}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const report = {};
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: "light",
    locale: "en-US",
    timezoneId: "UTC",
  });
  const page = await context.newPage();
  watch(page, "page");
  await page.goto(url, { waitUntil: "load" });

  await step("goes live over WebSocket", () =>
    page.waitForFunction(() => document.getElementById("connection").dataset.state === "live", null, { timeout: WAIT }));
  const unsafeHead = () => page.evaluate(() => Number(document.querySelector('tr[data-head="unsafe"]')?.dataset.number ?? -1));
  await step("shows the heads", () => page.waitForSelector('tr[data-head="unsafe"]', { timeout: WAIT }));
  report.unsafeFrom = await unsafeHead();

  await step("shows the deposit with its L1 and L2 transactions", async () => {
    const row = await page.waitForSelector(`tr[data-deposit="${depositL2}"]`, { timeout: WAIT });
    if (!(await row.$(`[data-hash="${depositL1}"]`))) throw new Error("the deposit row does not name its L1 transaction");
  });
  await step("shows the L2 transfer", () => page.waitForSelector(`tr[data-tx="${transfer}"]`, { timeout: WAIT }));
  await step("shows the withdrawal and where it stands", async () => {
    const row = await page.waitForSelector(`tr[data-withdrawal="${withdrawal}"]`, { timeout: WAIT });
    const text = await row.innerText();
    if (!/proposed|proven|finalized/.test(text)) throw new Error(`the withdrawal row says ${JSON.stringify(text)}`);
  });
  await step("shows batches, proposals and roles", async () => {
    await page.waitForSelector("#batches tr[data-l1-tx]", { timeout: WAIT });
    await page.waitForSelector("#proposals tr[data-proposal]", { timeout: WAIT });
    for (const role of ["derivation", "l1-follower", "sequencer", "batcher", "proposer", "defender", "challenger"]) {
      await page.waitForSelector(`#roles tr[data-role="${role}"]`, { timeout: WAIT });
    }
  });
  await step("shows the dispute game read from L1", async () => {
    await page.waitForFunction(() => {
      const note = document.getElementById("disputes-note").textContent;
      const body = document.querySelector("#disputes tbody").textContent;
      return /games on L1/.test(note) && (document.querySelector("#disputes tr[data-game]") || /No game on L1 yet/.test(body));
    }, null, { timeout: WAIT });
  });
  await step("the heads advance", () =>
    page.waitForFunction((from) => Number(document.querySelector('tr[data-head="unsafe"]').dataset.number) > from,
      report.unsafeFrom, { timeout: WAIT }));
  report.unsafeTo = await unsafeHead();

  await step("keyboard: the first Tab reaches the skip link", async () => {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement.className);
    if (focused !== "skip") throw new Error(`focus is on ${JSON.stringify(focused)}`);
  });
  await step("search finds the transfer", async () => {
    await page.fill("#query", transfer);
    await page.press("#query", "Enter");
    await page.waitForFunction(() => {
      const body = document.getElementById("result-body").textContent;
      return !document.getElementById("result").hidden && body.includes("transfer") && body.includes("success");
    }, null, { timeout: WAIT });
    const focused = await page.evaluate(() => document.activeElement.id);
    if (focused !== "result-title") throw new Error(`the result did not take the focus (${focused})`);
  });
  await step("search shows the withdrawal's path to L1", async () => {
    await page.fill("#query", withdrawal);
    await page.press("#query", "Enter");
    await page.waitForFunction(() => document.querySelectorAll("ol.path li").length === 6, null, { timeout: WAIT });
    const done = await page.$$eval("ol.path li", (items) => items.map((item) => `${item.dataset.step}=${item.dataset.done}`));
    report.withdrawalPath = done;
    if (!done.includes("initiated on L2=true") || !done.includes("covered by a proposal=true")) {
      throw new Error(`path: ${done.join(", ")}`);
    }
  });

  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(screenshots, "status-desktop.png"), fullPage: true });

  const layout = (target) => target.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    columns: getComputedStyle(document.querySelector("main")).gridTemplateColumns.split(" ").length,
  }));
  await step("one column at phone width, search result included", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);
    report.narrowed = await layout(page);
    if (report.narrowed.width > 390) throw new Error(`the page is ${report.narrowed.width} px wide`);
    if (report.narrowed.columns !== 1) throw new Error(`${report.narrowed.columns} columns`);
  });

  await step("a phone's first screen", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "light",
      locale: "en-US",
      timezoneId: "UTC",
    });
    const mobile = await phone.newPage();
    watch(mobile, "phone page");
    await mobile.goto(url, { waitUntil: "load" });
    await mobile.waitForSelector(`tr[data-deposit="${depositL2}"]`, { timeout: WAIT });
    await mobile.waitForSelector("#charts figure", { timeout: WAIT });
    await mobile.waitForTimeout(1500);
    report.phone = await layout(mobile);
    if (report.phone.width > 390) throw new Error(`the page is ${report.phone.width} px wide`);
    await mobile.screenshot({ path: path.join(screenshots, "status-phone.png") });
    await phone.close();
  });

  await step("without WebSocket it polls over HTTP", async () => {
    const polling = await context.newPage();
    watch(polling, "polling page");
    await polling.addInitScript(() => {
      window.WebSocket = function () {
        throw new Error("WebSocket is disabled in this test");
      };
    });
    await polling.goto(url, { waitUntil: "load" });
    await polling.waitForFunction(() => document.getElementById("connection").dataset.state === "polling", null, { timeout: WAIT });
    await polling.waitForSelector(`tr[data-deposit="${depositL2}"]`, { timeout: WAIT });
    const from = await polling.evaluate(() => Number(document.querySelector('tr[data-head="unsafe"]').dataset.number));
    await polling.waitForFunction((n) => Number(document.querySelector('tr[data-head="unsafe"]').dataset.number) > n, from, { timeout: WAIT });
    await polling.close();
  });
} catch (error) {
  problems.push(error.message);
} finally {
  await browser.close();
}

report.problems = problems;
console.log(JSON.stringify(report));
process.exit(problems.length ? 1 : 0);
