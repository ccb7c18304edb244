import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// vega and vega-lite are ESM with top-level await: Node 20 cannot require() them, so they are imported. They are
// resolved like any dependency (NODE_PATH included), and typed here by the little this file uses.
interface VegaLite {
  compile(spec: object): { spec: object };
}
interface Vega {
  parse(spec: object): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}

async function load<T>(name: string): Promise<T> {
  const resolve = createRequire(join(process.cwd(), 'package.json')).resolve;
  let path: string;
  try {
    path = resolve(name);
  } catch {
    throw new Error(`${name} is not installed: add vega and vega-lite to devDependencies (see docs/benchmarks.md).`);
  }
  return (await import(pathToFileURL(path).href)) as T;
}

/** Renders a vega-lite spec to SVG in Node, without a canvas. */
export async function renderSvg(spec: object): Promise<string> {
  const [vl, vega] = await Promise.all([load<VegaLite>('vega-lite'), load<Vega>('vega')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface CreatesSeries {
  /** e.g. 'campaign (callCampaignWorkflow)' */
  name: string;
  /** Creates accepted in each consecutive window. */
  perWindow: number[];
}

/** Creates per window over the campaign's life, against the API's ceiling. */
export function createsChartSpec(series: CreatesSeries[], ceiling: number, windowLabel: string): object {
  // A step line holds each window's count until the next window; a last point closes the last step.
  const values = series.flatMap((s) =>
    [...s.perWindow, s.perWindow.at(-1) ?? 0].map((creates, window) => ({ series: s.name, window, creates })),
  );
  const windows = Math.max(...series.map((s) => s.perWindow.length));
  const top = Math.max(ceiling + 2, ...series.flatMap((s) => s.perWindow));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Creates per ${windowLabel} against the API's ceiling of ${ceiling}`, anchor: 'start' },
    width: Math.max(480, Math.min(1000, windows * 7)),
    height: 220,
    background: 'white',
    // The ceiling first, so that a series running at the ceiling is drawn over it.
    layer: [
      {
        data: { values: [{ ceiling }] },
        mark: { type: 'rule', color: '#333333', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'ceiling', type: 'quantitative' } },
      },
      {
        data: { values: [{ ceiling, label: `API ceiling: ${ceiling} per ${windowLabel}` }] },
        mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#333333' },
        encoding: { y: { field: 'ceiling', type: 'quantitative' }, x: { datum: 0 }, text: { field: 'label' } },
      },
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'window', type: 'quantitative', title: `${windowLabel} since the first create` },
          y: { field: 'creates', type: 'quantitative', title: 'creates per window', scale: { domain: [0, top] } },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            // Series keep their order and colours: the first in blue, then red, then orange.
            scale: { domain: series.map((s) => s.name), range: ['#1f77b4', '#d62728', '#ff7f0e', '#2ca02c'] },
            legend: { orient: 'bottom', labelLimit: 500 },
          },
        },
      },
    ],
  };
}
