/**
 * The console in Debian's headless Chromium (driven by playwright-core), on
 * the real dev server with the paper world: the status page draws its price
 * chart from the seeded history (checked on the screenshot's pixels), the
 * intervention appears by itself, alice approves in the page with a Wallet
 * Standard wallet holding a test key, bob pastes a signature made elsewhere,
 * and the swap shows up live without a reload. Nothing is requested from
 * another origin, and the page fits a phone's width. Playwright gives the
 * browser a fresh profile. CONSOLE_SCREENSHOT=docs/console.png refreshes the
 * README's screenshot. Skipped where /usr/bin/chromium is absent (CI
 * installs it).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startConsole, type RunningConsole } from '../../src/console/server.ts';
import { messageBytes, planMessage, signMessage, type InterventionPlan } from '../../src/domain/operator-message.ts';
import { ensureMonitor } from '../../src/runtime/ensure.ts';
import { approveSignal, interventionStateQuery, type InterventionState } from '../../src/workflows/contract.ts';
import { startPaperRig, type PaperRig } from '../e2e/fixtures/paper-rig.ts';
import { TEST_OPERATOR_KEYS, TEST_OPERATOR_SEEDS } from '../support/operator-keys.ts';
import { colouredPixels, decodePng } from '../support/png.ts';

const CHROMIUM = '/usr/bin/chromium';
const T = 'pstr-main';
const IV = `intervention/${T}/1`;

/** A Wallet Standard wallet with alice's address; signMessage calls back into the test, which signs with her seed. */
function walletScript(address: string): string {
  return `(() => {
    const account = { address: ${JSON.stringify(address)}, publicKey: new Uint8Array(32), chains: ['solana:devnet'], features: ['solana:signMessage'] };
    const wallet = { version: '1.0.0', name: 'Test wallet', icon: 'data:image/svg+xml;base64,', chains: ['solana:devnet'], accounts: [],
      features: {
        'standard:connect': { version: '1.0.0', connect: async () => { wallet.accounts = [account]; return { accounts: [account] }; } },
        'solana:signMessage': { version: '1.0.0', signMessage: async ({ message }) => {
          const signature = new Uint8Array(await window.__testSign(Array.from(message)));
          return [{ signedMessage: message, signature }];
        } },
      } };
    const register = (api) => api.register(wallet);
    window.addEventListener('wallet-standard:app-ready', (e) => register(e.detail));
    window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: register }));
  })();`;
}

describe.skipIf(!existsSync(CHROMIUM))('the console in headless Chromium', () => {
  let rig: PaperRig;
  let web: RunningConsole;
  let browser: Browser;
  let page: Page;
  const foreign: string[] = [];
  const signed: Uint8Array[] = [];
  const config = parseConfig({
    treasuryId: T,
    monitor: { cycleIntervalSeconds: 1 },
    intervention: { operators: ['alice', 'bob'], operatorKeys: TEST_OPERATOR_KEYS, timelockMinutes: 0.1, approvalsRequired: 2 },
    treasury: { initial: { pump: '40000000', usdc: '700000' } },
    liquidity: { enabled: false },
    paper: { drawdown: { startInSeconds: 4, depth: 0.17, rampSeconds: 1, holdSeconds: 3600 } },
  });
  const state = (): Promise<InterventionState | null> => rig.client.workflow.getHandle(IV).query(interventionStateQuery).catch(() => null);

  beforeAll(async () => {
    rig = await startPaperRig(config, { prefix: 'pstr-console-browser' });
    web = await startConsole({ client: rig.client, treasuries: [T], store: rig.world.store, host: '127.0.0.1', port: 0 });
    await ensureMonitor(rig.client, config);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const origin = new URL(web.url).origin;
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    await page.exposeFunction('__testSign', (bytes: number[]) => {
      const message = Uint8Array.from(bytes);
      signed.push(message);
      return Array.from(ed25519.sign(message, TEST_OPERATOR_SEEDS.alice));
    });
    await page.addInitScript(walletScript(TEST_OPERATOR_KEYS.alice));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await rig?.stop();
  }, 30_000);

  it('draws the price chart from the seeded history on a fresh start, with the trigger and tier bands', async () => {
    await page.goto(web.url);
    await page.waitForSelector('#chart canvas');
    const points = Number(await page.getAttribute('#chart', 'data-points'));
    expect(points).toBeGreaterThan(100);
    await expect.poll(() => page.locator('#chart .u-legend th').allTextContents(), { timeout: 20_000 }).toEqual(expect.arrayContaining(['PSTR', 'VWAP 30d', 'tier 3 (30 % drawdown)']));
    const chart = decodePng(await page.locator('#chart canvas').screenshot());
    // The PSTR line and the bands are saturated strokes; a blank or grid-only canvas has none.
    expect(colouredPixels(chart, { x: 0, y: 0, w: chart.width, h: chart.height })).toBeGreaterThan(1500);
    await expect.poll(() => page.locator('#readings tr').count()).toBeGreaterThan(2);
    expect(await page.textContent('#mode')).toContain('signed: every operator message must carry a signature');
  }, 60_000);

  it('shows the intervention by itself with its plan in words and the timelock, and approves it with a wallet and with a pasted signature; the swap shows up live', async () => {
    const card = page.locator(`.iv[data-id="${IV}"]`);
    await card.locator('button[data-action="approve"]').waitFor({ timeout: 45_000 });
    await expect.poll(() => card.locator('.plan').textContent()).toMatch(/^Spend [\d,.]+ PUMP for at least [\d,.]+ PSTR — tier 1, sized at \$0\.000\d+ PSTR\/USD/);
    if (process.env.CONSOLE_SCREENSHOT) writeFileSync(process.env.CONSOLE_SCREENSHOT, await page.screenshot({ fullPage: true }));

    await card.locator('button[data-action="approve"]').click();
    await card.locator('button[data-sign="wallet"]').click();
    await expect.poll(() => page.locator('#live').textContent(), { timeout: 20_000 }).toContain('approve by alice accepted');
    // The wallet signed the plan's envelope for alice's key, nothing else.
    expect(signed).toHaveLength(1);
    const after = await state();
    expect(after?.approvals.approvals.map((a) => a.operator)).toEqual(['alice']);
    expect(signed[0]).toEqual(messageBytes(planMessage(after?.plan as InterventionPlan, 'approve', 'alice'), TEST_OPERATOR_KEYS.alice));

    // Two approvals are required: alice's alone swaps nothing.
    expect(await rig.world.ledger.swapCount()).toBe(0);
    // bob has no wallet here: he signs elsewhere (the CLI, a hardware key) and pastes what sign-plan prints.
    await card.locator('button[data-action="approve"]').click();
    await card.locator('.sign select').waitFor();
    // Someone else's (refused) approval arrives while bob's panel is open: the card re-renders live, the panel stays.
    await rig.client.workflow.getHandle(IV).signal(approveSignal, { operator: 'mallory' });
    await expect.poll(() => card.locator('p.note', { hasText: 'Approvals:' }).textContent(), { timeout: 20_000 }).toContain('mallory');
    await card.locator('.sign select').selectOption('bob');
    await card.locator('.sign button', { hasText: 'Sign elsewhere' }).click();
    const shown = await card.locator('pre.message').textContent();
    expect(shown).toBe(planMessage(after?.plan as InterventionPlan, 'approve', 'bob'));
    expect(await card.locator('.sign pre').first().textContent()).toBe(`npx pstr sign-plan ${IV} --operator bob --key <bob.json>`);
    await card.locator('.sign textarea').fill(JSON.stringify({ operator: 'bob', ...signMessage(shown ?? '', TEST_OPERATOR_SEEDS.bob) }));
    await card.locator('.sign button', { hasText: 'Send signed approve' }).click();
    await expect.poll(() => page.locator('#live').textContent(), { timeout: 20_000 }).toContain('approve by bob accepted');

    await expect.poll(() => card.locator('h3').textContent(), { timeout: 45_000 }).toContain('executed');
    expect(await card.locator('.result').textContent()).toMatch(/^Swapped [\d,.]+ PUMP → [\d,.]+ PSTR$/);
    expect(await page.locator('#live').textContent()).toMatch(/intervention\/pstr-main\/1: executed/);
    expect(await rig.world.ledger.swapCount()).toBe(1);
    expect((await state())?.approvals.approvals.map((a) => a.operator)).toEqual(['alice', 'bob']);
  }, 120_000);

  it("opens the operator report, whose price chart draws the seeded month on the first minute's data", async () => {
    const report = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    try {
      await report.goto(new URL(`/treasuries/${T}/report`, web.url).href);
      await report.waitForSelector('#chart-price canvas', { timeout: 60_000 });
      const chart = decodePng(await report.locator('#chart-price canvas').screenshot());
      expect(colouredPixels(chart, { x: 0, y: 0, w: chart.width, h: chart.height })).toBeGreaterThan(1500);
    } finally {
      await report.close();
    }
  }, 90_000);

  it('requested nothing from another origin, and fits a phone', async () => {
    expect(foreign).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(391);
    // Wide tables scroll inside their own box; nothing else may stick out.
    const wide = await page.evaluate<string[]>(`[...document.querySelectorAll('body *')].filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 391).map((e) => e.tagName + '.' + e.className)`);
    expect(wide).toEqual([]);
  });
});
