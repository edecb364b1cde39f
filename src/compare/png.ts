import { Resvg } from '@resvg/resvg-js';

/** Pixels across a PNG chart: twice the SVG's width, sharp on high-density screens. */
const PNG_SCALE = 2;

/**
 * Renders an SVG document to PNG bytes with resvg (a Rust renderer shipped as prebuilt npm
 * binaries: nothing to install beyond npm). System fonts are loaded for the labels; without
 * any, text is left out but the bars still render.
 */
export function renderPng(svg: string): Buffer {
  const resvg = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: PNG_SCALE }, font: { loadSystemFonts: true } });
  return resvg.render().asPng();
}
