import uPlot from '../lib/uplot/uPlot.esm.js';

const PALETTE = ['#1b6ac9', '#b3401d', '#2b7a3d', '#7a3db3', '#8a6d00', '#00707a'];

/**
 * A time chart: series = [{ label, points: [[epochSeconds, value]...], stepped?, marks?, colour?, dash? }], lines = [{ label, value, colour }]
 * drawn as constant dashed series (capacity, overload threshold, voltage band). The chart's figures are also
 * given as a caption, so the picture is not the only way to read them.
 */
export function timeChart(container, { title, unit, series, lines = [], band = null, from = null, to = null }) {
  // The span's ends are points too, so capacity and overload lines cross the whole chart, data or not.
  const ends = from && to ? [from / 1000, to / 1000] : [];
  const xs = [...new Set([...ends, ...series.flatMap((s) => s.points.map((p) => p[0]))])].sort((a, b) => a - b);
  const data = [xs];
  const opts = {
    title, width: Math.max(280, container.clientWidth || 600), height: 260,
    // The asked-for span, not the data's: one window must not stretch the axis over years.
    scales: { x: from && to ? { time: true, range: [from / 1000, to / 1000] } : { time: true } }, axes: [{}, { label: unit }],
    series: [{}], legend: { live: false },
  };
  series.forEach((s, i) => {
    const byX = new Map(s.points);
    data.push(xs.map((x) => byX.get(x) ?? null));
    const stroke = s.colour ?? PALETTE[i % PALETTE.length];
    if (s.marks) {
      // Marks only (anomalies): a dot at each point, no line between them.
      opts.series.push({ label: s.label, stroke, width: 0, paths: () => null, points: { show: true, size: 11, fill: stroke, stroke } });
    } else {
      // A stepped series (prices, the hourly baseline) holds each value until the next one.
      opts.series.push({ label: s.label, stroke, width: 2, dash: s.dash, spanGaps: !!s.stepped,
        paths: s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined });
    }
  });
  for (const line of lines) {
    data.push(xs.map(() => line.value));
    opts.series.push({ label: line.label, stroke: line.colour, dash: [6, 4], width: 1.5 });
  }
  if (band && xs.length) {
    data.push(xs.map(() => band.low), xs.map(() => band.high));
    const low = opts.series.length, high = low + 1;
    opts.series.push({ label: `${band.label} low`, stroke: '#6a8f6a', width: 1 }, { label: `${band.label} high`, stroke: '#6a8f6a', width: 1 });
    opts.bands = [{ series: [high, low], fill: 'rgba(80, 160, 80, 0.12)' }];
  }
  container.replaceChildren();
  const chart = new uPlot(opts, data, container);
  const resize = () => chart.setSize({ width: Math.max(280, container.clientWidth), height: 260 });
  window.addEventListener('resize', resize);
  chart.canvas?.setAttribute?.('aria-hidden', 'true');
  return chart;
}
