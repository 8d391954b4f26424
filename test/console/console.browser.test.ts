import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';

// Functions handed to page.evaluate run in the page; the test program itself has no DOM types.
declare const document: any;
declare const window: any;
type HTMLElement = any;
type HTMLOptionElement = any;
import type { StoreUrl } from '../../src/config/config.js';
import { consoleAppId } from '../../src/users/console-app.js';
import { createTenancyService } from '../../src/tenancy/tenancy.service.js';
import { contactInput, createTenant, type Tenant } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, seriousViolations, type LaunchedBrowser } from '../helpers/browser.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { cliJson, startCliServe, type CliServer } from '../cli/run-cli.js';
import { freePort } from '../helpers/server-process.js';

// The console driven in Debian's chromium, as a person would use it: one browser for the file, one server per store.
// Screenshots of every page at 1280 and 390 px go to CONSOLE_SCREENSHOTS (docs/console/ when the docs are updated),
// else to a temporary folder; at both widths the page must not scroll sideways.

const noBrowser = browserSkipReason();
if (noBrowser) process.stdout.write(`# console browser tests skipped: ${noBrowser}\n`);
const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-shots-'));
const COLUMNS = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';
const databaseUrl = (url: StoreUrl) => (url.kind === 'sqlite' ? `sqlite:${url.file}` : url.url);

let launched: LaunchedBrowser | undefined;
before(async () => {
  if (!noBrowser) launched = await launchBrowser();
});
after(async () => launched?.close());

/** Text of the whole page as a person reads it. */
const pageText = (page: Page) => page.evaluate(() => document.body.innerText);
/** Waits until the page shows the text; on a timeout the error says what the page showed instead. */
async function waitForText(page: Page, text: string, timeout = 15_000): Promise<void> {
  try {
    // Polled on a timer, not on animation frames: a headless page the browser deems hidden gets none.
    await page.waitForFunction((t: string) => document.body.innerText.includes(t), { timeout, polling: 100 }, text);
  } catch (error) {
    const shown = await pageText(page).catch(() => '(unreadable)');
    throw new Error(`"${text}" not shown within ${timeout} ms at ${page.url()}; the page shows:\n${shown.slice(0, 1500)}`, { cause: error });
  }
}
/** Waits for a condition on the page (a function given as source text, so the test build adds no helpers to it). */
async function waitFor(page: Page, condition: string, timeout = 15_000): Promise<void> {
  try {
    await page.waitForFunction(condition, { timeout, polling: 100 });
  } catch (error) {
    const shown = await pageText(page).catch(() => '(unreadable)');
    throw new Error(`${condition} did not hold within ${timeout} ms at ${page.url()}; the page shows:\n${shown.slice(0, 1500)}`, { cause: error });
  }
}
const rowCount = (n: number) => `document.querySelectorAll('tbody tr').length === ${n}`;
const byLabel = (page: Page, name: string, role = 'textbox') => page.waitForSelector(`::-p-aria([name="${name}"][role="${role}"])`);
const button = (page: Page, name: string) => page.waitForSelector(`::-p-aria([name="${name}"][role="button"])`);
const link = (page: Page, name: string) => page.waitForSelector(`::-p-aria([name="${name}"][role="link"])`);

async function fill(page: Page, label: string, value: string, role = 'textbox'): Promise<void> {
  const input = await byLabel(page, label, role);
  await input!.click({ count: 3 });
  await page.keyboard.press('Backspace');
  if (value) await input!.type(value);
}

/** No serious or critical axe violation, the page read at both widths without sideways scrolling, and its screenshots. */
async function checkPage(page: Page, name: string, options: { axe?: boolean } = {}): Promise<void> {
  const violations = options.axe === false ? [] : await seriousViolations(page);
  assert.deepEqual(violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${name}`);
  for (const width of [1280, 390]) {
    await page.setViewport({ width, height: 860 });
    await new Promise((r) => setTimeout(r, 80));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = overflow <= 0 ? '' : await page.evaluate(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap')).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 10).join(', ')`);
    assert.ok(overflow <= 0, `${name} at ${width} px scrolls sideways by ${overflow} px: ${wide}`);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewport({ width: 1280, height: 860 });
}

type Cdp = Awaited<ReturnType<Page['createCDPSession']>>;

/** The page's DevTools session: downloads saved to the folder, and the network conditions set later on it. */
async function devtools(page: Page, downloads: string): Promise<Cdp> {
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await cdp.send('Network.enable');
  return cdp;
}

/** The text of the file downloaded under a name that matches, once complete. */
async function waitForFile(dir: string, name: RegExp, timeout = 15_000): Promise<{ name: string; text: string }> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const found = fs.readdirSync(dir).find((n) => name.test(n));
    if (found) return { name: found, text: fs.readFileSync(path.join(dir, found), 'utf8') };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} was not downloaded within ${timeout} ms; ${dir} holds ${fs.readdirSync(dir).join(', ')}`);
}

/** What the import's progress bar showed (value / max, with its label), from now on: upload bytes, then the job's rows. */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    window.__progress = [];
    const record = () => {
      const bar = document.getElementById('import-progress');
      if (!bar) return;
      const label = document.querySelector('label[for=import-progress]')?.textContent ?? '';
      const state = document.querySelector('.state')?.textContent ?? '';
      const fraction = bar.value / bar.max;
      const last = window.__progress[window.__progress.length - 1];
      if (!last || last.fraction !== fraction || last.state !== state) window.__progress.push({ fraction, label, state });
    };
    record();
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  })()`);
}

const progressSeen = (page: Page) => page.evaluate('window.__progress') as Promise<{ fraction: number; label: string; state: string }[]>;

/** Uploads from this page go at this many bytes a second (a person's connection, not the loopback's); -1: no limit. */
async function uploadSpeed(cdp: Cdp, bytesPerSecond: number): Promise<void> {
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: bytesPerSecond < 0 ? 0 : 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
}

const jobIdShown = async (page: Page) =>
  (await (await link(page, 'This import’s own page'))!.evaluate((a) => a.getAttribute('href') as string)).split('/').pop()!;

function csvFile(dir: string, name: string, rows: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${COLUMNS}\n${rows.join('\n')}\n`);
  return file;
}

for (const dialect of DIALECTS) {
  describe(`the console in chromium on ${dialect}`, { skip: noBrowser || (await skipReason(dialect)), timeout: 600_000 }, () => {
    let store: TestStore;
    let server: CliServer;
    let base: string;
    let a: Tenant;
    let b: Tenant;
    let userA: { userId: string; email: string; password: string };
    let userB: { userId: string; email: string; password: string };
    let browser: Browser;
    let page: Page;
    let cdp: Cdp;
    let work: string;
    const ids: Record<string, string> = {};

    before(async () => {
      browser = launched!.browser;
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-console-'));
      store = await createTestStore(dialect);
      a = await createTenant(store.store);
      b = await createTenant(store.store);
      const tenancy = createTenancyService({ db: store.store.db });
      await tenancy.createStream(a.accountId, 'Support line — خط الدعم');
      const url = databaseUrl(store.url);
      userA = await cliJson(['users', 'create', '--account', a.accountId, '--email', 'lead@example.com', '--name', 'Team Lead', '--json'], url);
      userB = await cliJson(['users', 'create', '--account', b.accountId, '--email', 'other@example.com', '--json'], url);
      // The built server in a process of its own, as deployed: a SQLite import there cannot stall this process's
      // conversation with the browser. Small batches, so a 20,000-row job moves through many committed steps.
      server = await startCliServe(url, await freePort(), { IMPORT_BATCH_ROWS: '1000', IMPORT_POLL_MS: '50', RATE_LIMIT_PER_MINUTE: '0', SHUTDOWN_GRACE_MS: '500' });
      base = server.url;
      page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 860 });
      cdp = await devtools(page, work);
    });
    after(async () => {
      await page?.close().catch(() => {});
      // Chromium keeps sockets it opened ahead of need; the server's grace period (0.5 s here) cuts them.
      if (server) assert.equal(await server.stop(), 0, server.output());
      await store?.destroy();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    /** The API as the first tenant's app calls it (a token, not the console's session). */
    const apiCall = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${a.base}${url}`, {
        method,
        headers: { ...a.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { statusCode: res.status, body: text, json: () => JSON.parse(text) };
    };
    const apiGet = (url: string) => apiCall('GET', url);

    it('signs in with a user the CLI made, by keyboard, after a wrong password is refused and counted', async () => {
      await page.goto(`${base}/`);
      await (await link(page, 'Open the console'))!.click();
      await waitForText(page, 'Sign in to Dialbook');
      await checkPage(page, 'sign-in');
      await fill(page, 'Email', userA.email);
      await fill(page, 'Password', 'not my password');
      await (await button(page, 'Sign in'))!.click();
      await waitForText(page, 'The email or the password is not right');
      const failures = await store.store.db.selectFrom('sign_in_failures').select('key').where('key', '=', `user:${userA.email}`).execute();
      assert.equal(failures.length, 1, 'the refused attempt is counted');
      await checkPage(page, 'sign-in-refused');

      await fill(page, 'Password', '');
      await (await byLabel(page, 'Email'))!.focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
      await page.keyboard.type(userA.password);
      await page.keyboard.press('Enter');
      await waitFor(page, `location.pathname.endsWith('/contacts') && document.querySelector('h1')?.textContent === 'Contacts'`);
      assert.equal(new URL(page.url()).pathname, `/console/streams/${a.streamId}/contacts`);
      // Focus goes to the new page's heading, so a screen reader announces where the user is.
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
      const cookie = (await page.cookies()).find((c) => c.name === 'dialbook_session');
      assert.ok(cookie, 'a session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      assert.equal(cookie.secure, false, 'plain http: not Secure');
      assert.equal(await page.evaluate(() => document.cookie), '', 'no script can read the session cookie');
    });

    it('creates a contact with validation messages beside the fields, edits it, and shows the holder of a taken number', async () => {
      await (await link(page, 'New contact'))!.click();
      await waitForText(page, 'Create contact');
      await fill(page, 'Country code', '');
      await fill(page, 'Extension', '');
      await (await button(page, 'Create contact'))!.click();
      await page.waitForSelector('input[aria-invalid="true"]');
      const described = await page.evaluate(() => {
        const input = document.getElementById('f-firstName')!;
        return { invalid: input.getAttribute('aria-invalid'), message: document.getElementById(input.getAttribute('aria-describedby')!)?.textContent, focused: document.activeElement?.id };
      });
      assert.equal(described.invalid, 'true');
      assert.match(described.message ?? '', /firstName/);
      assert.equal(described.focused, 'f-salutation', 'focus goes to the first field in error');
      await checkPage(page, 'contact-form-errors');

      await fill(page, 'Salutation', 'Ms');
      await fill(page, 'First name', 'Asha');
      await fill(page, 'Last name', 'Rao');
      await fill(page, 'Country code', '+91');
      await fill(page, 'Phone number', '98765 43210');
      await fill(page, 'Extension', '+');
      await (await button(page, 'Create contact'))!.click();
      await waitForText(page, 'Edit Ms Asha Rao');
      ids.asha = new URL(page.url()).pathname.split('/').pop()!;
      const created = (await apiGet(`/contacts/${ids.asha}`)).json();
      assert.equal(created.cellPhone.phoneNumber, '+919876543210');
      assert.equal(created.createdBy, userA.userId);
      assert.equal(created.createdByAId, consoleAppId(a.accountId));

      await fill(page, 'Last name', 'Rao-Sharma');
      await (await button(page, 'Save'))!.click();
      await waitForText(page, 'Saved.');
      const edited = (await apiGet(`/contacts/${ids.asha}`)).json();
      assert.equal(edited.lastName, 'Rao-Sharma');
      assert.equal(edited.updatedBy, userA.userId);
      assert.equal(edited.updatedByAId, consoleAppId(a.accountId));

      const other = await apiCall('POST', '/contacts', [contactInput({ firstName: 'Ravi', lastName: 'Kumar' })]);
      ids.ravi = other.json()[0].id;
      await page.goto(`${base}/console/streams/${a.streamId}/contacts/${ids.ravi}`);
      await waitForText(page, 'Edit Mr Ravi Kumar');
      await fill(page, 'Phone number', '+91 98765-43210');
      await (await button(page, 'Save'))!.click();
      const holder = await link(page, 'See its holder');
      assert.equal(await holder!.evaluate((el) => el.getAttribute('href')), `/console/streams/${a.streamId}/contacts/${ids.asha}`);
      assert.match(await pageText(page), new RegExp(`already belongs to contact ${ids.asha}`));
      await checkPage(page, 'contact-taken-number');
      await holder!.click();
      await waitForText(page, 'Edit Ms Asha Rao-Sharma');
    });

    it('lists with paging and sort, searches as you type, looks a number up, deletes and restores, deletes a selection, exports the view', async () => {
      const people = Array.from({ length: 30 }, (_, i) => contactInput({ firstName: `Person`, lastName: `N${String(i).padStart(2, '0')}` }));
      people.push(contactInput({ firstName: 'Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft', lastName: 'Schaferswessenschafewarenwohlgepflegeundsorgfaltigkeitbeschutzen' }));
      people.push(contactInput({ firstName: 'محمد', lastName: 'عبد الله', salutation: 'السيد' }));
      people.push(contactInput({ firstName: 'דוד', lastName: 'כהן' }));
      const seeded = await apiCall('POST', '/contacts', people);
      assert.equal(seeded.statusCode, 200, seeded.body);

      await (await link(page, 'Contacts'))!.click();
      await waitForText(page, '35 contacts');
      const rows = () => page.$$eval('tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
      assert.equal((await rows()).length, 25, 'a page of 25');
      assert.match((await rows())[0]!, /כהן/, 'newest first');
      await checkPage(page, 'contacts');
      await (await button(page, 'Next page'))!.click();
      await waitFor(page, rowCount(10));
      await (await button(page, 'Previous page'))!.click();
      await waitFor(page, rowCount(25));
      await page.select('#sort', 'lastName');
      await waitFor(page, `document.querySelector('tbody tr')?.innerText.includes('Kumar')`);

      await fill(page, 'Search by name', 'ash', 'searchbox');
      await waitFor(page, rowCount(1));
      assert.match((await rows())[0]!, /Asha Rao-Sharma/);
      await fill(page, 'Search by name', '', 'searchbox');
      await waitFor(page, rowCount(25));

      await fill(page, 'Phone lookup', '+91 (98765) 43210');
      await (await button(page, 'Find'))!.click();
      await waitFor(page, rowCount(1));
      assert.match((await rows())[0]!, /Asha/);
      await fill(page, 'Phone lookup', '98765');
      await (await button(page, 'Find'))!.click();
      await waitFor(page, `(document.getElementById('phone-lookup-error')?.textContent ?? '') !== ''`);
      await (await button(page, 'Clear'))!.click();
      await waitFor(page, rowCount(25));

      await fill(page, 'Search by name', 'asha', 'searchbox');
      await waitFor(page, rowCount(1));
      await (await button(page, 'Delete Ms Asha Rao-Sharma'))!.click();
      await waitForText(page, 'Deleted Ms Asha Rao-Sharma.');
      assert.equal((await apiGet(`/contacts/${ids.asha}`)).json().status, 'INACTIVE');
      await page.select('#status', 'INACTIVE');
      await (await button(page, 'Restore Ms Asha Rao-Sharma'))!.click();
      await waitForText(page, 'Restored Ms Asha Rao-Sharma.');
      assert.equal((await apiGet(`/contacts/${ids.asha}`)).json().status, 'ACTIVE');
      await page.select('#status', 'ACTIVE');

      await fill(page, 'Search by name', 'person', 'searchbox');
      await waitForText(page, '30 contacts');
      await waitFor(page, rowCount(25));
      await page.select('#sort', 'lastName');
      for (const n of ['N00', 'N01', 'N02']) await (await page.waitForSelector(`::-p-aria([name="Select Mr Person ${n}"][role="checkbox"])`))!.click();
      await (await button(page, 'Delete selected (3)'))!.click();
      await waitForText(page, 'Deleted 3 contacts.');
      const left = (await apiGet('/contacts?q=person&limit=100')).json();
      assert.equal(left.totalResults, 27);
      assert.ok(!left.results.some((c: { lastName: string }) => ['N00', 'N01', 'N02'].includes(c.lastName)));

      await fill(page, 'Search by name', 'person n1', 'searchbox');
      await waitFor(page, rowCount(10));
      await (await link(page, 'Export CSV'))!.click();
      const csv = (await waitForFile(work, /^contacts\.csv$/)).text.trim().split(/\r?\n/);
      assert.match(csv[0]!, /^firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension/);
      assert.deepEqual(csv.slice(1).map((line) => line.split(',')[1]), ['N10', 'N11', 'N12', 'N13', 'N14', 'N15', 'N16', 'N17', 'N18', 'N19']);
      fs.rmSync(path.join(work, 'contacts.csv'));
      await fill(page, 'Search by name', '', 'searchbox');
    });

    it('imports 20,000 rows with bad ones while the progress moves, then the failures CSV, fixed, imports cleanly', async (t) => {
      const rows: string[] = [];
      const bad = new Set<number>();
      for (let i = 0; i < 20_000; i++) {
        if (i % 1000 === 7) {
          bad.add(i);
          rows.push(`Bad${i},Row,Mr,98x76${i},+91,+`);
        } else rows.push(`First${i},Last${i},Mr,${9_500_000_000 + i},+91,+`);
      }
      const file = csvFile(work, 'twenty-thousand.csv', rows);
      await (await link(page, 'Import'))!.click();
      await waitForText(page, 'Import contacts');
      const input = await page.waitForSelector('#csv-file');
      await (input as unknown as { uploadFile(f: string): Promise<void> }).uploadFile(file);
      await waitForText(page, 'Before anything is written');
      const facts = await pageText(page);
      assert.match(facts, /Encoding\s+UTF-8/);
      assert.match(facts, /Delimiter\s+comma/);
      assert.match(facts, /→ cellPhoneNumber/);
      assert.match(facts, /First0/, 'the first rows are shown');
      assert.equal((await store.store.db.selectFrom('import_jobs').select('id').execute()).length, 0, 'nothing written before the start');
      await checkPage(page, 'import-preview');

      await uploadSpeed(cdp, 256 * 1024);
      await recordProgress(page);
      await (await button(page, 'Start import'))!.click();
      await waitForText(page, 'Completed: 19,980 created, 0 updated, 20 failed', 120_000);
      await uploadSpeed(cdp, -1);
      const seen = await progressSeen(page);
      const during = seen.filter((s) => !s.state.startsWith('Completed'));
      const distinct = [...new Set(during.map((s) => s.fraction))];
      const rowsShown = during.filter((s) => s.label.startsWith('Rows')).map((s) => s.label.replace('Rows: ', ''));
      t.diagnostic(`progress bar values before completion: ${distinct.length} distinct (${during.filter((s) => s.label.startsWith('Uploading')).length} while uploading; rows shown while processing: ${rowsShown.join(' | ') || 'none'})`);
      assert.ok(distinct.length >= 2, `the bar showed ${JSON.stringify(during)} before completion`);
      assert.ok(distinct.some((v) => v > 0 && v < 1), 'a value between the start and the end');
      ids.twenty = await jobIdShown(page);
      await waitFor(page, `document.querySelectorAll('section tbody tr').length === 20`);
      assert.match(await pageText(page), /98x767/);
      await checkPage(page, 'import-done');

      await (await link(page, 'Download failures CSV'))!.click();
      const failures = (await waitForFile(work, /failures\.csv$/)).text.trim().split(/\r?\n/);
      assert.equal(failures[0], `${COLUMNS},errorCode,errorMessage`);
      assert.equal(failures.length, 21);
      const fixed = failures.map((line, i) => (i === 0 ? line : line.replace(/98x76(\d+)/, (_, n: string) => String(9_600_000_000 + Number(n)))));
      const fixedFile = path.join(work, 'fixed.csv');
      fs.writeFileSync(fixedFile, `${fixed.join('\n')}\n`);

      await (await link(page, 'Import'))!.click();
      const again = await page.waitForSelector('#csv-file');
      await (again as unknown as { uploadFile(f: string): Promise<void> }).uploadFile(fixedFile);
      await waitForText(page, 'Before anything is written');
      assert.match(await pageText(page), /errorCode\s*\n?\s*ignored/);
      await (await button(page, 'Start import'))!.click();
      await waitForText(page, 'Completed: 20 created, 0 updated, 0 failed', 60_000);
      assert.equal((await apiGet('/contacts?q=bad&limit=100')).json().totalResults, 20);
    });

    it('cancels a running import; the rows committed before stay, the rest are not written', async () => {
      const rows = Array.from({ length: 600_000 }, (_, i) => `Slow${i},Cancel,Ms,${9_700_000_000 + i},+91,+`);
      const file = csvFile(work, 'to-cancel.csv', rows);
      // The stream's total is exact (a name search's stops counting at 1,000): what the job wrote is the difference.
      const before = (await apiGet('/contacts?limit=1')).json().totalResults as number;
      await (await link(page, 'Import'))!.click();
      const input = await page.waitForSelector('#csv-file');
      await (input as unknown as { uploadFile(f: string): Promise<void> }).uploadFile(file);
      await waitForText(page, 'Before anything is written');
      await (await button(page, 'Start import'))!.click();
      await waitFor(page, `(document.getElementById('import-progress')?.value ?? 0) > 0 && document.querySelector('label[for=import-progress]')?.textContent.startsWith('Rows') && document.querySelector('.state')?.textContent?.startsWith('Importing') && document.body.innerText.includes('rows/s')`, 60_000);
      // Quick, before the job is done: the screenshots of a running job; axe looks at the same page once cancelled.
      await checkPage(page, 'import-running', { axe: false });
      await (await button(page, 'Cancel import'))!.click();
      await waitForText(page, 'Cancelled', 30_000);
      await checkPage(page, 'import-cancelled');
      ids.cancelled = await jobIdShown(page);
      const job = (await apiGet(`/contacts/imports/${ids.cancelled}`)).json();
      assert.equal(job.state, 'cancelled');
      assert.ok(job.processedRows > 0 && job.processedRows < 600_000, `processed ${job.processedRows}`);
      assert.equal((await apiGet('/contacts?limit=1')).json().totalResults - before, job.created);
    });

    it('lists the stream\'s imports with their states and counts', async () => {
      await (await link(page, 'Import history'))!.click();
      await waitFor(page, rowCount(3));
      const rows = await page.$$eval('tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText.replace(/\s+/g, ' ')));
      assert.match(rows[0]!, /^to-cancel\.csv Cancelled/);
      assert.match(rows[1]!, /^fixed\.csv Completed 20 \/ 20 20 0 0/);
      assert.match(rows[2]!, /^twenty-thousand\.csv Completed 20,000 \/ 20,000 19,980 0 20/);
      await checkPage(page, 'import-history');
    });

    it("shows a user of another account none of the first account's streams or contacts, also at typed URLs", async () => {
      const context = await browser.createBrowserContext();
      try {
        const other = await context.newPage();
        await other.setViewport({ width: 1280, height: 860 });
        await other.goto(`${base}/console/streams/${a.streamId}/contacts/${ids.asha}`);
        await waitForText(other, 'Sign in to Dialbook');
        await fill(other, 'Email', userB.email);
        await fill(other, 'Password', userB.password);
        await (await button(other, 'Sign in'))!.click();
        // Signed in, the typed URL of the other account's contact: not found, and nothing of it shown.
        await waitForText(other, 'This stream does not exist, or it is not one of your account.');
        const text = await pageText(other);
        for (const secret of ['Asha', 'Support line', a.streamId]) assert.ok(!text.includes(secret), `shows ${secret}`);
        const options = await other.$$eval('header select option', (os) => os.map((o) => (o as HTMLOptionElement).value));
        assert.deepEqual(options.filter(Boolean), [b.streamId]);
        await checkPage(other, 'not-found');
        for (const url of [`/console/streams/${a.streamId}/contacts`, `/console/streams/${a.streamId}/imports`, `/console/streams/${a.streamId}/imports/${ids.cancelled}`]) {
          await other.goto(`${base}${url}`);
          await waitForText(other, 'This stream does not exist');
          assert.ok(!(await pageText(other)).includes('Asha'));
        }
        await other.goto(`${base}/console/streams/${b.streamId}/contacts/${ids.asha}`);
        await waitForText(other, 'This contact does not exist in this stream.');
        // The API answers the session the same way it answers a token of another account.
        const status = await other.evaluate(async (url) => (await fetch(url)).status, `${a.base}/contacts/${ids.asha}`);
        assert.equal(status, 404);
        await other.goto(`${base}/console/streams/${b.streamId}/contacts`);
        await waitForText(other, 'No contacts match.');
      } finally {
        await context.close();
      }
    });

    it('signs out; the old session cookie is refused afterwards', async () => {
      const cookie = (await page.cookies()).find((c) => c.name === 'dialbook_session')!;
      const before = await fetch(`${base}${a.base}/contacts`, { headers: { cookie: `dialbook_session=${cookie.value}` } });
      assert.equal(before.status, 200);
      await (await button(page, 'Sign out'))!.click();
      await waitForText(page, 'Sign in to Dialbook');
      const afterOut = await fetch(`${base}${a.base}/contacts`, { headers: { cookie: `dialbook_session=${cookie.value}` } });
      assert.equal(afterOut.status, 401);
      assert.equal(((await afterOut.json()) as { errors: { code: string }[] }).errors[0]!.code, 'SESSION_ENDED');
      await page.goto(`${base}/console/streams/${a.streamId}/contacts`);
      await waitForText(page, 'Sign in to Dialbook');
    });
  });
}
