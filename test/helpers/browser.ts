import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { type Browser, chromium, type FrameLocator, type Locator, type Page } from 'playwright-core';

/** The system Chromium (Debian's `chromium` package): playwright-core downloads no browser of its own. */
export const chromiumPath = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  return existsSync(chromiumPath)
    ? undefined
    : `${chromiumPath} is missing: install it with \`apt-get install -y chromium\` to run the Web UI tests.`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** A page whose relative URLs resolve against the Web UI, sized so that screenshots show a whole workflow page. */
export async function openUiPage(browser: Browser, uiBaseUrl: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: uiBaseUrl, viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

export function workflowPath(workflowId: string, namespace = 'default'): string {
  return `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Opens a workflow's page and waits until the UI has loaded it (the status badge and the tabs are rendered). */
export async function openWorkflow(page: Page, workflowId: string, namespace = 'default'): Promise<void> {
  await page.goto(workflowPath(workflowId, namespace));
  await page.getByRole('heading', { name: workflowId }).waitFor();
  await page.getByTestId('execution-status').waitFor();
  await page.getByTestId('user-metadata-tab').waitFor();
}

/** {@link openWorkflow}, once the page shows the workflow completed. */
export async function openCompletedWorkflow(page: Page, workflowId: string): Promise<void> {
  await openWorkflow(page, workflowId);
  await page
    .getByTestId('execution-status')
    .getByText(/completed/i)
    .waitFor();
}

/**
 * Opens the workflow list filtered by a List Filter (the `query=` URL parameter) and returns the workflow ids it
 * shows once at least one row has rendered. Visibility is eventually consistent: wait for the workflow to be
 * listable (e.g. with `client.workflow.list`) before opening the page.
 */
export async function openWorkflowList(page: Page, query: string, namespace = 'default'): Promise<string[]> {
  await page.goto(`/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`);
  const rows = page.getByTestId('workflows-summary-configurable-table-row');
  await rows.first().waitFor();
  const ids: string[] = [];
  for (const row of await rows.all()) {
    const label = await row.getByRole('checkbox').getAttribute('aria-label');
    const id = label?.replace(/^Select Workflow /, '');
    if (id) ids.push(id);
  }
  return ids;
}

/** The markdown a workflow sets with `setCurrentDetails`, as the UI rendered it. */
export interface CurrentDetails {
  /** The rendered text, e.g. "phase polling call id cl_… polls 3". */
  text: string;
  /** Every body row of the rendered tables, as cell texts. */
  rows: string[][];
  /** First cell → second cell, for two-column key/value tables such as placeCallWorkflow's. */
  values: Record<string, string>;
  /** The iframe the UI renders the markdown in, for further assertions. */
  frame: FrameLocator;
}

/**
 * Opens the workflow's "User Metadata" tab and reads its "Current Details" panel: the markdown the workflow last
 * set with `setCurrentDetails`, which the UI fetches with the built-in `__temporal_workflow_metadata` query (so a
 * worker must be running) and renders in a sandboxed iframe. Waits until the markdown has rendered to a table or
 * text. The page stays on the tab, ready for a screenshot.
 */
export async function openCurrentDetails(
  page: Page,
  workflowId: string,
  namespace = 'default',
): Promise<CurrentDetails> {
  await openWorkflow(page, workflowId, namespace);
  await page.getByTestId('user-metadata-tab').click();
  await page.getByRole('heading', { name: 'Current Details' }).waitFor();
  const frame = page.frameLocator('#user-metadata-current-details');
  const body = frame.locator('body');
  // The UI renders the details anew in a new iframe when a running workflow changes them (every poll): a read that
  // began in the old one fails "Frame was detached" and is made again in the new one.
  for (let read = 1; ; read++) {
    try {
      await body.locator('table, p, li').first().waitFor();
      const rows = await frame
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td, th')].map((c) => c.textContent?.trim() ?? '')),
        );
      const values = Object.fromEntries(rows.filter((r) => r.length >= 2).map((r) => [r[0] as string, r[1] as string]));
      return { text: (await body.innerText()).trim(), rows, values, frame };
    } catch (error) {
      if (read >= 5 || !/frame (was|got) detached|execution context was destroyed/i.test(String(error))) throw error;
    }
  }
}

/**
 * Waits until `text` is rendered inside `container`, scrolling its code blocks down as needed. The UI shows a
 * payload in a CodeMirror editor with its own scroll box (about 300 px high) that renders only the lines near that
 * box's view, so a long payload (a failure with its stack trace and details) shows its last fields only once that
 * box is scrolled: scrolling the page does not do it, and neither does a wheel over the gap between two blocks (the
 * CI failure this replaced). Each step scrolls every code block in `container` by 200 px. Fails naming the text,
 * and saying how far each block had scrolled, when it never appears.
 */
export async function scrollUntilShown(page: Page, container: Locator, text: string | RegExp): Promise<void> {
  const target = container.getByText(text).first();
  const scrollers = container.locator('.cm-scroller');
  const positions = () =>
    scrollers.evaluateAll((boxes) =>
      boxes.map((b) => `${b.scrollTop + b.clientHeight}/${b.scrollHeight} px`).join(', '),
    );
  for (let step = 0; step < 60; step++) {
    if ((await target.count()) > 0) return;
    const moved = await scrollers.evaluateAll((boxes) =>
      boxes
        .map((box) => {
          const before = box.scrollTop;
          box.scrollBy(0, 200);
          return box.scrollTop !== before;
        })
        .includes(true),
    );
    await page.waitForTimeout(moved ? 100 : 250);
  }
  throw new Error(`${String(text)} never appeared in the page; its code blocks were scrolled to ${await positions()}`);
}

/** A free TCP port on the loopback interface (for the Web UI, which needs one chosen up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
